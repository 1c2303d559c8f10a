set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'dm_reached.svg'
set key outside right top box
set grid
set xlabel "edited layer"
set ylabel "d_m reached"
set xtics 1
set offsets 0.5, 0.5, 0, 0
set title "d_m where the estimated error fell below 0.05 (each draw a point; fixed d_m = 10 dashed)"
set arrow from graph 0, first 10 to graph 1, first 10 nohead dt 2 lw 2 lc rgb 'black'
set yrange [0:*]
plot for [i=2:6] 'dm_reached.dat' using 1:i skip 1 with points pt 7 ps 1.3 title sprintf("draw %d", i-1)
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'dm_reached.png'
replot
