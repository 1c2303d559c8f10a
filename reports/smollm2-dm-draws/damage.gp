set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'damage.svg'
set datafile separator ','
set key outside right top box
set grid
set tics nomirror
set logscale x
set xlabel "dynamic multiplier d_m (P = d_m d_k preserved keys per layer)"
bs = "16"
set title "Damage the scores miss: held-out NLL change after the edit, absolute value (ref = d_m 50, dotted)"
set ylabel "|change of mean NLL| on held-out text (nats/token)"
set logscale y
set format y "10^{%L}"
set arrow from graph 0, first 0.0006431272422835477 to graph 1, first 0.0006431272422835477 nohead dt 3 lw 2 lc 1
plot for [i=0:0] 'fig_study.csv' using 1:(abs(column(6 + 7*i))) skip 1 with linespoints lw 2 lc (i+1) pt 7 title sprintf("B = %s", word(bs,i+1))
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'damage.png'
replot
