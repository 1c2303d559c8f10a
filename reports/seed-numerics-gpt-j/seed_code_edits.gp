set terminal svg size 1200,680 dynamic enhanced font 'Helvetica,13'
set output 'seed_code_edits.svg'
set key outside right top box
set grid
set logscale x
set logscale y
set format y "10^{%L}"
set xlabel "dynamic multiplier d_m = P / d_k"
set title "the seed code's edits against the fp64 reference (solid), and what they write into the edit keys (dashed)"
set key outside bottom center box maxrows 4
set ylabel "relative"
plot 'seed_numerics.dat' using 1:5 with linespoints lw 2 pt 5 lc 1 title 'emmet, explicit inverse fp32: ||M - M_{ref}|| / ||M_{ref}||', \
     'seed_numerics.dat' using 1:6 with linespoints lw 1 dt 2 pt 5 lc 1 title 'emmet, explicit inverse fp32: ||M K_E - I|| / sqrt(B)', \
     'seed_numerics.dat' using 1:7 with linespoints lw 2 pt 6 lc 2 title 'emmet, explicit inverse fp64: ||M - M_{ref}|| / ||M_{ref}||', \
     'seed_numerics.dat' using 1:8 with linespoints lw 1 dt 2 pt 6 lc 2 title 'emmet, explicit inverse fp64: ||M K_E - I|| / sqrt(B)', \
     'seed_numerics.dat' using 1:9 with linespoints lw 2 pt 7 lc 3 title 'emmet, Cholesky fp64: ||M - M_{ref}|| / ||M_{ref}||', \
     'seed_numerics.dat' using 1:10 with linespoints lw 1 dt 2 pt 7 lc 3 title 'emmet, Cholesky fp64: ||M K_E - I|| / sqrt(B)', \
     'seed_numerics.dat' using 1:11 with linespoints lw 2 pt 8 lc 4 title 'memit, fp64 solve: ||M - M_{ref}|| / ||M_{ref}||', \
     'seed_numerics.dat' using 1:12 with linespoints lw 1 dt 2 pt 8 lc 4 title 'memit, fp64 solve: ||M K_E - I|| / sqrt(B)'
set terminal pngcairo size 1200,680 enhanced font 'Helvetica,11'
set output 'seed_code_edits.png'
replot
