set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'variants_update_size.svg'
set key outside right top box
set grid
set logscale x
set xlabel "dynamic multiplier d_m (points shifted slightly per series)"
set title "||dW||/||W0|| (mean over layers) over 2 key draws: mean and sd; reference dotted"
set ylabel "||dW||_F / ||W0||_F"
set logscale y
set format y "10^{%L}"
set arrow from graph 0, first 0.05692141730508393 to graph 1, first 0.05692141730508393 nohead dt 3 lw 2 lc rgb 'gray30'
plot 'variants.dat' index 0 using ($1*(1+0.03*0)):6:7 with yerrorlines lw 2 pt 7 lc 1 title 'packed, none, B = 16', \
     'variants.dat' index 1 using ($1*(1+0.03*1)):6:7 with yerrorlines lw 2 pt 7 lc 2 title 'packed, lw, B = 16', \
     'variants.dat' index 2 using ($1*(1+0.03*2)):6:7 with yerrorlines lw 2 pt 7 lc 3 title 'packed, oas, B = 16', \
     'variants.dat' index 3 using ($1*(1+0.03*3)):6:7 with yerrorlines lw 2 pt 7 lc 4 title 'packed, load-rel:0.1, B = 16'
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'variants_update_size.png'
replot
