set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'scores.svg'
set datafile separator ','
set key outside right top box
set grid
set tics nomirror
set logscale x
set xlabel "dynamic multiplier d_m (P = d_m d_k preserved keys per layer)"
bs = "16"
set title "CounterFact scores after MEMIT edits vs d_m (S solid, ES dashed, NS dotted; ref = d_m 50, dotted for S)"
set ylabel "score (%)"
set yrange [0:105]
set arrow from graph 0, first 80.48765432098764 to graph 1, first 80.48765432098764 nohead dt 3 lw 2 lc 1
plot for [i=0:0] 'fig_study.csv' using 1:(column(2 + 7*i)) skip 1 with linespoints lw 2 lc (i+1) pt 7 title sprintf("S, B = %s", word(bs,i+1)), \
     for [i=0:0] 'fig_study.csv' using 1:(column(3 + 7*i)) skip 1 with linespoints dt 2 lw 1 lc (i+1) pt 4 title sprintf("ES, B = %s", word(bs,i+1)), \
     for [i=0:0] 'fig_study.csv' using 1:(column(5 + 7*i)) skip 1 with linespoints dt 3 lw 1 lc (i+1) pt 6 title sprintf("NS, B = %s", word(bs,i+1))
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'scores.png'
replot
