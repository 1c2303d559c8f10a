set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'variants_damage.svg'
set key outside right top box
set grid
set logscale x
set xlabel "dynamic multiplier d_m (points shifted slightly per series)"
set title "|held-out NLL change| over 5 key draws: mean and sd; reference dotted"
set ylabel "|change of mean NLL| (nats/token)"
set logscale y
set format y "10^{%L}"
set arrow from graph 0, first 0.0006431272422835477 to graph 1, first 0.0006431272422835477 nohead dt 3 lw 2 lc rgb 'gray30'
plot 'variants.dat' index 0 using ($1*(1+0.03*0)):4:5 with yerrorlines lw 2 pt 7 lc 1 title 'packed, none, B = 16', \
     'variants.dat' index 1 using ($1*(1+0.03*1)):4:5 with yerrorlines lw 2 pt 7 lc 2 title 'random, none, B = 16', \
     'variants.dat' index 2 using ($1*(1+0.03*2)):4:5 with yerrorbars pt 9 ps 2 lc 3 title 'adaptive d_m, packed, none, B = 16', \
     'variants.dat' index 3 using ($1*(1+0.03*3)):4:5 with yerrorbars pt 9 ps 2 lc 4 title 'adaptive d_m, random, none, B = 16'
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'variants_damage.png'
replot
