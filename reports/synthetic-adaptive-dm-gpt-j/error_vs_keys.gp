set terminal svg size 1200,900 dynamic enhanced font 'Helvetica,13'
set output 'error_vs_keys.svg'
set multiplot layout 2,2 title "Estimates (lines); 90 % band of the RMS error (shaded) or bound (dashed); actual error vs the reference (circles)"
set key top right font ',9'
set grid
set logscale xy
set xlabel "d_m (P = d_m d_k keys per layer)"
set title "update"
set ylabel "relative error"
set yrange [0.208:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 title 'blk.0', \
     'dm.dat' index 0 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 1 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 2 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 2 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 3 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 3 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 3 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 4 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 4 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 4 using 1:5 with points pt 6 ps 1.1 lc 1 notitle
set title "output"
set ylabel "relative error"
set yrange [0.214:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 0 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 1 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 1 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 2 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 2 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 2 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 3 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 3 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 3 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 4 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 4 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 4 using 1:9 with points pt 6 ps 1.1 lc 1 notitle
set title "written (the stopping criterion; tolerance dashed)"
set ylabel "absolute error"
set yrange [0.0198:*]
set arrow 1 from graph 0, first 0.05 to graph 1, first 0.05 nohead dt 2 lw 2 lc rgb 'black'
plot 'dm.dat' index 0 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 0 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 1 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 1 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 2 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 2 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 2 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 3 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 3 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 3 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 4 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 4 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 4 using 1:13 with points pt 6 ps 1.1 lc 1 notitle
set title "damage"
set ylabel "relative error"
set yrange [0.0767:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 0 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 1 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 1 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 2 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 2 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 2 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 3 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 3 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 3 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 4 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 4 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 4 using 1:17 with points pt 6 ps 1.1 lc 1 notitle

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
set yrange [0.208:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 title 'blk.0', \
     'dm.dat' index 0 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 1 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 2 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 2 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 3 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 3 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 3 using 1:5 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 4 using 1:3:4 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 4 using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 4 using 1:5 with points pt 6 ps 1.1 lc 1 notitle
set title "output"
set ylabel "relative error"
set yrange [0.214:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 0 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 1 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 1 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 2 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 2 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 2 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 3 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 3 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 3 using 1:9 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 4 using 1:7:8 with filledcurves fs transparent solid 0.12 lc 1 notitle, \
     'dm.dat' index 4 using 1:6 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 4 using 1:9 with points pt 6 ps 1.1 lc 1 notitle
set title "written (the stopping criterion; tolerance dashed)"
set ylabel "absolute error"
set yrange [0.0198:*]
set arrow 1 from graph 0, first 0.05 to graph 1, first 0.05 nohead dt 2 lw 2 lc rgb 'black'
plot 'dm.dat' index 0 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 0 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 1 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 1 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 2 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 2 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 2 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 3 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 3 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 3 using 1:13 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 4 using 1:12 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 4 using 1:10 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 4 using 1:13 with points pt 6 ps 1.1 lc 1 notitle
set title "damage"
set ylabel "relative error"
set yrange [0.0767:*]
unset arrow 1
plot 'dm.dat' index 0 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 0 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 0 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 1 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 1 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 1 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 2 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 2 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 2 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 3 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 3 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 3 using 1:17 with points pt 6 ps 1.1 lc 1 notitle, \
     'dm.dat' index 4 using 1:16 with lines dt 2 lw 1 lc 1 notitle, \
     'dm.dat' index 4 using 1:14 with linespoints lw 2 pt 7 ps 0.5 lc 1 notitle, \
     'dm.dat' index 4 using 1:17 with points pt 6 ps 1.1 lc 1 notitle

unset multiplot
