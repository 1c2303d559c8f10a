set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'rank.svg'
set datafile separator ','
set key outside right top box
set grid
set tics nomirror
set title "Numerical rank of C0 (tolerance d_k eps {/Symbol l}_{max}, fp64)"
set xlabel "dynamic multiplier d_m = P / d_k"
set ylabel "rank(C0) / d_k"
set logscale x
set yrange [0:1.05]
set key inside right bottom
plot 'fig_rank.csv' using 1:2 skip 1 with linespoints lw 2 pt 7 title "rank / d_k", \
     'fig_rank.csv' using 1:3 skip 1 with lines dt 2 title "min(P, d_k) / d_k"
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'rank.png'
replot
