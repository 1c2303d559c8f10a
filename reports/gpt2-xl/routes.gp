set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'routes.svg'
set datafile separator ','
set key outside right top box
set grid
set tics nomirror
set title "MEMIT at B = 1: closed form vs independent routes (difference / a-posteriori bound)"
set xlabel "dynamic multiplier d_m"
set ylabel "largest difference / bound over the routes"
set logscale xy
set format y "10^{%L}"
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "red"
set yrange [*:30]
set key inside right bottom box opaque
set label "agreement bound" at graph 0.02, first 1.6 tc rgb "red"
plot 'routes.csv' using 1:4 skip 1 with linespoints lw 2 pt 7 title "worst judged route", \
     'routes.csv' using 1:($3 == 0 ? 1 : 1/0) skip 1 with points pt 2 ps 3 lw 3 lc rgb "red" title "verdict: disagree (a route failed or did not converge)"
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'routes.png'
replot
