set terminal svg size 1200,680 dynamic enhanced font 'Helvetica,13'
set output 'seed_code_edits.svg'
set key outside right top box
set grid
set logscale x
set logscale y
set format y "10^{%L}"
set xlabel "dynamic multiplier d_m = P / d_k"
set title "the seed code's edits against the fp64 reference: ||M - M_ref||/||M_ref|| (solid), ||M K_E - I||/sqrt(B) (dashed)"
set ylabel "relative"
plot 'seed_numerics.dat' using 1:5 with linespoints lw 2 pt 5 lc 1 title 'rel. error: explicit inverse of C0 (fp32 sums) in fp32, pinv if singu...', \
     'seed_numerics.dat' using 1:6 with linespoints lw 1 dt 2 pt 5 lc 1 title '||M K_E - I||/sqrt(B)', \
     'seed_numerics.dat' using 1:7 with linespoints lw 2 pt 6 lc 2 title 'rel. error: explicit inverse of C0 (fp32 sums) in fp64, pinv if singular', \
     'seed_numerics.dat' using 1:8 with linespoints lw 1 dt 2 pt 6 lc 2 title '||M K_E - I||/sqrt(B)', \
     'seed_numerics.dat' using 1:9 with linespoints lw 2 pt 7 lc 3 title 'rel. error: Cholesky of C0 (fp32 sums) in fp64 (no explicit inverse)', \
     'seed_numerics.dat' using 1:10 with linespoints lw 1 dt 2 pt 7 lc 3 title '||M K_E - I||/sqrt(B)', \
     'seed_numerics.dat' using 1:11 with linespoints lw 2 pt 8 lc 4 title 'rel. error: Cholesky of lambda C0 (fp32 sums) + K_E K_E^T in fp64', \
     'seed_numerics.dat' using 1:12 with linespoints lw 1 dt 2 pt 8 lc 4 title '||M K_E - I||/sqrt(B)'
set terminal pngcairo size 1200,680 enhanced font 'Helvetica,11'
set output 'seed_code_edits.png'
replot
