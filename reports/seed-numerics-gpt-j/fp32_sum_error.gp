set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'fp32_sum_error.svg'
set key outside right top box
set grid
set logscale x
set logscale y
set format y "10^{%L}"
set xlabel "dynamic multiplier d_m = P / d_k"
set title "C0 from fp32 sums against fp64 sums (synthetic:gpt-j@0.25(d=1024,d_k=4096,seed=1))"
set ylabel "fp64"
plot 'seed_numerics.dat' using 1:2 with linespoints lw 2 pt 7 title 'eig_min(C0), fp64 sums', \
     'seed_numerics.dat' using 1:3 with linespoints lw 2 pt 5 title '||C0_{fp32 sums} - C0||_F', \
     'seed_numerics.dat' using 1:4 with linespoints lw 2 pt 9 dt 2 title 'ratio (> 1: Weyl no longer guarantees definiteness)', \
     1 with lines dt 3 lc rgb 'gray30' notitle
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'fp32_sum_error.png'
replot
