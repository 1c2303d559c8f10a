set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'cholesky_map.svg'
set datafile separator ','
set title "Cholesky of C_{eff} = {/Symbol l} C0 + K_E K_E^T: where it succeeds"
set xlabel "dynamic multiplier d_m"
set ylabel "number of edits B"
set xrange [-0.5:6.5]
set yrange [-0.5:4.5]
set xtics ("0.5" 0, "1.0" 1, "1.5" 2, "2.0" 3, "3.0" 4, "4.0" 5, "10.0" 6)
set ytics ("1" 0, "16" 1, "64" 2, "256" 3, "1024" 4)
set cbrange [0:2]
set cbtics ("fails" 0.33, "fp64 only" 1, "fp32+fp64" 1.67)
set rmargin 14
set palette defined (0 "#d73027", 1 "#fee08b", 2 "#1a9850")
set palette maxcolors 3
set datafile separator ','
plot 'cholesky_map.csv' using 1:3:5 skip 1 with image notitle, \
     'cholesky_map.csv' using 1:3:($5 == 2 ? "fp32+fp64" : ($5 == 1 ? "fp64 only" : "fails")) with labels notitle
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'cholesky_map.png'
replot
