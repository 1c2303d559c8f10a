set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'conditioning_vs_batch.svg'
set datafile separator ','
set key outside right top box
set grid
set tics nomirror
set title "Condition numbers of C_{eff} (solid) and D (dashed) against the number of edits B"
set xlabel "number of edits B"
set ylabel "condition number"
set logscale xy
set format y "10^{%L}"
dms = "0.5 1.0 1.5 2.0 3.0 4.0 10.0"
plot for [i=1:7] 'fig_conditioning_vs_batch.csv' using 1:(column(1+i)) skip 1 with linespoints lw 2 lc i pt 7 title sprintf("d_m = %s", word(dms,i)), \
     for [i=1:7] 'fig_conditioning_vs_batch.csv' using 1:(column(1+7+i)) skip 1 with linespoints dt 2 lw 2 lc i pt 9 notitle
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'conditioning_vs_batch.png'
replot
