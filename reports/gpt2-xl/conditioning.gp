set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'conditioning.svg'
set datafile separator ','
set key outside right top box
set grid
set tics nomirror
set title "Condition numbers against d_m (C_{eff} and D at B = 1024); dotted: 1/eps of fp32 and fp64"
set xlabel "dynamic multiplier d_m = P / d_k"
set ylabel "condition number {/Symbol l}_{max} / {/Symbol l}_{min}"
set logscale y
set format y "10^{%L}"
set logscale x
set key inside right top
set arrow from graph 0, first 8388608.0 to graph 1, first 8388608.0 nohead dt 3 lw 2 lc rgb "red"
set arrow from graph 0, first 4503599627370496.0 to graph 1, first 4503599627370496.0 nohead dt 3 lw 2 lc rgb "black"
set label "1/eps fp32" at graph 0.02, first 25165824.0 tc rgb "red"
set label "1/eps fp64" at graph 0.02, first 562949953421312.0
set yrange [1:1e18]
plot 'fig_conditioning.csv' using 1:2 skip 1 with linespoints lw 2 pt 7 title "C0", \
     'fig_conditioning.csv' using 1:3 skip 1 with lines dt 2 lw 2 title "C0 if keys were isotropic (Marchenko-Pastur)", \
     'fig_conditioning.csv' using 1:4 skip 1 with linespoints lw 2 pt 5 title "C_{eff}", \
     'fig_conditioning.csv' using 1:5 skip 1 with linespoints lw 2 pt 9 title "D"
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'conditioning.png'
replot
