set terminal svg size 1200,900 dynamic enhanced font 'Helvetica,13'
set output 'error_vs_keys.svg'
set multiplot layout 2,2 title "Estimates (lines); 90 % band of the RMS error (shaded) or bound (dashed); actual error vs the reference (circles)"
set key top right font ',9'
set grid
set logscale xy
set xlabel "d_m (P = d_m d_k keys per layer)"
set title "update"
set ylabel "relative error"
set yrange [0.127:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 title 'blk.2', \
     'dm.dat' index 0 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 2 title 'blk.3', \
     'dm.dat' index 1 using 1:5 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 2 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 3 title 'blk.4', \
     'dm.dat' index 2 using 1:5 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 3 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 3 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 4 title 'blk.5', \
     'dm.dat' index 3 using 1:5 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 4 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 4 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 5 title 'blk.6', \
     'dm.dat' index 4 using 1:5 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 5 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 5 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 5 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 6 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 6 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 6 using 1:5 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 7 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 7 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 7 using 1:5 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 8 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 8 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 8 using 1:5 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 9 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 9 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 9 using 1:5 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 10 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 10 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 10 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 11 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 11 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 11 using 1:5 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 12 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 12 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 12 using 1:5 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 13 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 13 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 13 using 1:5 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 14 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 14 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 14 using 1:5 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 15 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 15 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 15 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 16 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 16 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 16 using 1:5 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 17 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 17 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 17 using 1:5 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 18 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 18 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 18 using 1:5 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 19 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 19 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 19 using 1:5 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 20 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 20 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 20 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 21 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 21 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 21 using 1:5 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 22 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 22 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 22 using 1:5 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 23 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 23 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 23 using 1:5 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 24 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 24 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 24 using 1:5 with points pt 6 ps 1.1 lc 5 notitle
set title "output"
set ylabel "relative error"
set yrange [0.132:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 0 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 1 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 1 using 1:9 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 2 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 2 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 2 using 1:9 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 3 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 3 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 3 using 1:9 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 4 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 4 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 4 using 1:9 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 5 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 5 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 5 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 6 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 6 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 6 using 1:9 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 7 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 7 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 7 using 1:9 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 8 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 8 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 8 using 1:9 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 9 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 9 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 9 using 1:9 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 10 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 10 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 10 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 11 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 11 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 11 using 1:9 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 12 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 12 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 12 using 1:9 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 13 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 13 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 13 using 1:9 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 14 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 14 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 14 using 1:9 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 15 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 15 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 15 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 16 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 16 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 16 using 1:9 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 17 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 17 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 17 using 1:9 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 18 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 18 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 18 using 1:9 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 19 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 19 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 19 using 1:9 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 20 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 20 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 20 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 21 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 21 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 21 using 1:9 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 22 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 22 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 22 using 1:9 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 23 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 23 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 23 using 1:9 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 24 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 24 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 24 using 1:9 with points pt 6 ps 1.1 lc 5 notitle
set title "written (the stopping criterion; tolerance dashed)"
set ylabel "absolute error"
set yrange [0.0178:*]
set arrow 1 from graph 0, first 0.05 to graph 1, first 0.05 nohead dt 2 lw 2 lc rgb 'black'
plot 'dm.dat' index 0 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 0 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:12 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 1 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 1 using 1:13 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 2 using 1:12 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 2 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 2 using 1:13 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 3 using 1:12 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 3 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 3 using 1:13 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 4 using 1:12 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 4 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 4 using 1:13 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 5 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 5 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 5 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 6 using 1:12 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 6 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 6 using 1:13 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 7 using 1:12 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 7 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 7 using 1:13 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 8 using 1:12 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 8 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 8 using 1:13 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 9 using 1:12 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 9 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 9 using 1:13 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 10 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 10 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 10 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 11 using 1:12 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 11 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 11 using 1:13 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 12 using 1:12 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 12 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 12 using 1:13 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 13 using 1:12 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 13 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 13 using 1:13 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 14 using 1:12 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 14 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 14 using 1:13 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 15 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 15 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 15 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 16 using 1:12 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 16 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 16 using 1:13 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 17 using 1:12 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 17 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 17 using 1:13 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 18 using 1:12 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 18 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 18 using 1:13 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 19 using 1:12 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 19 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 19 using 1:13 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 20 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 20 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 20 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 21 using 1:12 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 21 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 21 using 1:13 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 22 using 1:12 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 22 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 22 using 1:13 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 23 using 1:12 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 23 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 23 using 1:13 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 24 using 1:12 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 24 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 24 using 1:13 with points pt 6 ps 1.1 lc 5 notitle
set title "damage"
set ylabel "relative error"
set yrange [0.025:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 0 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:16 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 1 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 1 using 1:17 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 2 using 1:16 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 2 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 2 using 1:17 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 3 using 1:16 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 3 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 3 using 1:17 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 4 using 1:16 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 4 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 4 using 1:17 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 5 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 5 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 5 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 6 using 1:16 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 6 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 6 using 1:17 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 7 using 1:16 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 7 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 7 using 1:17 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 8 using 1:16 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 8 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 8 using 1:17 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 9 using 1:16 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 9 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 9 using 1:17 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 10 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 10 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 10 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 11 using 1:16 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 11 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 11 using 1:17 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 12 using 1:16 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 12 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 12 using 1:17 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 13 using 1:16 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 13 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 13 using 1:17 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 14 using 1:16 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 14 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 14 using 1:17 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 15 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 15 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 15 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 16 using 1:16 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 16 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 16 using 1:17 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 17 using 1:16 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 17 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 17 using 1:17 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 18 using 1:16 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 18 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 18 using 1:17 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 19 using 1:16 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 19 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 19 using 1:17 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 20 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 20 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 20 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 21 using 1:16 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 21 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 21 using 1:17 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 22 using 1:16 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 22 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 22 using 1:17 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 23 using 1:16 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 23 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 23 using 1:17 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 24 using 1:16 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 24 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 24 using 1:17 with points pt 6 ps 1.1 lc 5 notitle

unset multiplot
set terminal pngcairo size 1200,900 enhanced font 'Helvetica,11'
set output 'error_vs_keys.png'
set multiplot layout 2,2 title "Estimates (lines); 90 % band of the RMS error (shaded) or bound (dashed); actual error vs the reference (circles)"
set key top right font ',9'
set grid
set logscale xy
set xlabel "d_m (P = d_m d_k keys per layer)"
set title "update"
set ylabel "relative error"
set yrange [0.127:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 title 'blk.2', \
     'dm.dat' index 0 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 2 title 'blk.3', \
     'dm.dat' index 1 using 1:5 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 2 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 3 title 'blk.4', \
     'dm.dat' index 2 using 1:5 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 3 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 3 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 4 title 'blk.5', \
     'dm.dat' index 3 using 1:5 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 4 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 4 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 5 title 'blk.6', \
     'dm.dat' index 4 using 1:5 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 5 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 5 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 5 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 6 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 6 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 6 using 1:5 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 7 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 7 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 7 using 1:5 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 8 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 8 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 8 using 1:5 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 9 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 9 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 9 using 1:5 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 10 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 10 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 10 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 11 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 11 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 11 using 1:5 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 12 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 12 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 12 using 1:5 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 13 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 13 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 13 using 1:5 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 14 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 14 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 14 using 1:5 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 15 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 15 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 15 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 16 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 16 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 16 using 1:5 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 17 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 17 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 17 using 1:5 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 18 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 18 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 18 using 1:5 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 19 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 19 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 19 using 1:5 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 20 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 20 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 20 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 21 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 21 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 21 using 1:5 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 22 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 22 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 22 using 1:5 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 23 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 23 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 23 using 1:5 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 24 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 24 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 24 using 1:5 with points pt 6 ps 1.1 lc 5 notitle
set title "output"
set ylabel "relative error"
set yrange [0.132:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 0 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 1 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 1 using 1:9 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 2 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 2 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 2 using 1:9 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 3 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 3 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 3 using 1:9 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 4 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 4 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 4 using 1:9 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 5 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 5 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 5 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 6 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 6 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 6 using 1:9 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 7 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 7 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 7 using 1:9 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 8 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 8 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 8 using 1:9 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 9 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 9 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 9 using 1:9 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 10 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 10 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 10 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 11 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 11 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 11 using 1:9 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 12 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 12 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 12 using 1:9 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 13 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 13 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 13 using 1:9 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 14 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 14 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 14 using 1:9 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 15 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 15 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 15 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 16 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 16 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 16 using 1:9 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 17 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 17 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 17 using 1:9 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 18 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 18 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 18 using 1:9 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 19 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 19 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 19 using 1:9 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 20 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 20 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 20 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 21 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 2 notitle, \
     'dm.dat' index 21 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 21 using 1:9 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 22 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 3 notitle, \
     'dm.dat' index 22 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 22 using 1:9 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 23 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 4 notitle, \
     'dm.dat' index 23 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 23 using 1:9 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 24 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 5 notitle, \
     'dm.dat' index 24 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 24 using 1:9 with points pt 6 ps 1.1 lc 5 notitle
set title "written (the stopping criterion; tolerance dashed)"
set ylabel "absolute error"
set yrange [0.0178:*]
set arrow 1 from graph 0, first 0.05 to graph 1, first 0.05 nohead dt 2 lw 2 lc rgb 'black'
plot 'dm.dat' index 0 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 0 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:12 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 1 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 1 using 1:13 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 2 using 1:12 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 2 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 2 using 1:13 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 3 using 1:12 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 3 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 3 using 1:13 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 4 using 1:12 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 4 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 4 using 1:13 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 5 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 5 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 5 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 6 using 1:12 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 6 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 6 using 1:13 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 7 using 1:12 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 7 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 7 using 1:13 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 8 using 1:12 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 8 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 8 using 1:13 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 9 using 1:12 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 9 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 9 using 1:13 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 10 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 10 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 10 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 11 using 1:12 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 11 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 11 using 1:13 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 12 using 1:12 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 12 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 12 using 1:13 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 13 using 1:12 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 13 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 13 using 1:13 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 14 using 1:12 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 14 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 14 using 1:13 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 15 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 15 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 15 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 16 using 1:12 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 16 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 16 using 1:13 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 17 using 1:12 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 17 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 17 using 1:13 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 18 using 1:12 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 18 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 18 using 1:13 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 19 using 1:12 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 19 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 19 using 1:13 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 20 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 20 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 20 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 21 using 1:12 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 21 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 21 using 1:13 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 22 using 1:12 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 22 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 22 using 1:13 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 23 using 1:12 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 23 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 23 using 1:13 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 24 using 1:12 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 24 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 24 using 1:13 with points pt 6 ps 1.1 lc 5 notitle
set title "damage"
set ylabel "relative error"
set yrange [0.025:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 0 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:16 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 1 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 1 using 1:17 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 2 using 1:16 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 2 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 2 using 1:17 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 3 using 1:16 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 3 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 3 using 1:17 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 4 using 1:16 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 4 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 4 using 1:17 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 5 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 5 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 5 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 6 using 1:16 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 6 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 6 using 1:17 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 7 using 1:16 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 7 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 7 using 1:17 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 8 using 1:16 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 8 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 8 using 1:17 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 9 using 1:16 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 9 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 9 using 1:17 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 10 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 10 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 10 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 11 using 1:16 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 11 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 11 using 1:17 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 12 using 1:16 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 12 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 12 using 1:17 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 13 using 1:16 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 13 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 13 using 1:17 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 14 using 1:16 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 14 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 14 using 1:17 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 15 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 15 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 15 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 16 using 1:16 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 16 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 16 using 1:17 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 17 using 1:16 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 17 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 17 using 1:17 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 18 using 1:16 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 18 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 18 using 1:17 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 19 using 1:16 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 19 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 19 using 1:17 with points pt 6 ps 1.1 lc 5 notitle, \
     'dm.dat' index 20 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 20 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 20 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 21 using 1:16 with lines dt 2 lw 1 lc 2 notitle, \
     'dm.dat' index 21 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 2 notitle, \
     'dm.dat' index 21 using 1:17 with points pt 6 ps 1.1 lc 2 notitle, \
     'dm.dat' index 22 using 1:16 with lines dt 2 lw 1 lc 3 notitle, \
     'dm.dat' index 22 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 3 notitle, \
     'dm.dat' index 22 using 1:17 with points pt 6 ps 1.1 lc 3 notitle, \
     'dm.dat' index 23 using 1:16 with lines dt 2 lw 1 lc 4 notitle, \
     'dm.dat' index 23 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 4 notitle, \
     'dm.dat' index 23 using 1:17 with points pt 6 ps 1.1 lc 4 notitle, \
     'dm.dat' index 24 using 1:16 with lines dt 2 lw 1 lc 5 notitle, \
     'dm.dat' index 24 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 5 notitle, \
     'dm.dat' index 24 using 1:17 with points pt 6 ps 1.1 lc 5 notitle

unset multiplot
