set terminal svg size 1100,700 dynamic enhanced font 'Helvetica,13'
set output 'alphaedit_projector.svg'
set key outside bottom center box maxrows 4
set grid
set logscale x
set logscale y
set format y "10^{%L}"
set y2range [0:1]
set y2tics
set xlabel "dynamic multiplier d_m of C0 (the reference at its d_m)"
set ylabel "||(W - W0) K0|| / ||W0 K0||, leakage"
set y2label "rank of the projector / d_k"
set title "AlphaEdit against d_m: what the projector keeps free, and what the edits move on preserved keys"
plot 'projector.dat' index 0 using 1:2 axes x1y2 with linespoints lw 2 pt 7 lc 1 title 'alphaedit t<0.02: rank of P / d_k (right axis)', \
     'projector.dat' index 0 using 1:3 with linespoints lw 2 dt 2 pt 5 lc 1 title 'alphaedit t<0.02: preserved change, round 1', \
     'projector.dat' index 0 using 1:4 with linespoints lw 2 dt 3 pt 9 lc 1 title 'alphaedit t<0.02: preserved change, round 6', \
     'projector.dat' index 0 using 1:5 with linespoints lw 1 dt 4 pt 3 lc 1 title 'alphaedit t<0.02: leakage ||dW C0||/||dW||, round 1', \
     'projector.dat' index 1 using 1:2 axes x1y2 with linespoints lw 2 pt 7 lc 2 title 'alphaedit energy 0.99: rank of P / d_k (right axis)', \
     'projector.dat' index 1 using 1:3 with linespoints lw 2 dt 2 pt 5 lc 2 title 'alphaedit energy 0.99: preserved change, round 1', \
     'projector.dat' index 1 using 1:4 with linespoints lw 2 dt 3 pt 9 lc 2 title 'alphaedit energy 0.99: preserved change, round 6', \
     'projector.dat' index 1 using 1:5 with linespoints lw 1 dt 4 pt 3 lc 2 title 'alphaedit energy 0.99: leakage ||dW C0||/||dW||, round 1'
set terminal pngcairo size 1100,700 enhanced font 'Helvetica,11'
set output 'alphaedit_projector.png'
replot
