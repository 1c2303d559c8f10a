set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'update_size.svg'
set datafile separator ','
set key outside right top box
set grid
set tics nomirror
set logscale x
set xlabel "dynamic multiplier d_m (P = d_m d_k preserved keys per layer)"
bs = "16"
set title "Update size ||dW||/||W0|| (solid, left) and written fraction of the edits (dashed, right), mean over layers"
set ylabel "||dW||_F / ||W0||_F"
set y2label "written fraction (identity 9)"
set logscale y
set y2range [0:1.05]
set y2tics
plot for [i=0:0] 'fig_study.csv' using 1:(column(7 + 7*i)) skip 1 with linespoints lw 2 lc (i+1) pt 7 title sprintf("||dW||/||W0||, B = %s", word(bs,i+1)), \
     for [i=0:0] 'fig_study.csv' using 1:(column(8 + 7*i)) skip 1 axes x1y2 with linespoints dt 2 lw 2 lc (i+1) pt 4 title sprintf("written, B = %s", word(bs,i+1))
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'update_size.png'
replot
