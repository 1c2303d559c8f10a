set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'output_distance.svg'
set datafile separator ','
set key outside right top box
set grid
set tics nomirror
set title "Output distance to d_m = 10.0 on the preserved keys: sqrt(tr(Δ C_{ref} Δ^T) / tr(dW_{ref} C_{ref} dW_{ref}^T)) (MEMIT solid, EMMET dashed)" font ',11'
set xlabel "dynamic multiplier d_m"
set ylabel "relative RMS output difference on preserved keys"
set logscale xy
set format y "10^{%L}"
bs = "1 16 64 256 1024"
plot for [i=1:5] 'fig_output_distance.csv' using 1:(column(1+i)) skip 1 with linespoints lw 2 lc i pt 7 title sprintf("B = %s", word(bs,i)), \
     for [i=1:5] 'fig_output_distance.csv' using 1:(column(1+5+i)) skip 1 with linespoints dt 2 lw 2 lc i pt 9 notitle
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'output_distance.png'
replot
