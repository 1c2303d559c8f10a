set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'sequential_damage.svg'
set key outside right top box
set grid
set xlabel "round (B = 8 edits each; points shifted slightly per series)"
set xrange [0.5:6.8]
set xtics 1
set title "|held-out NLL change| (mean and sd over 2 key draws)"
set ylabel "|change of mean NLL| (nats/token)"
set logscale y
set format y "10^{%L}"
plot 'rounds.dat' index 0 using ($1+0.04*0):6:7 with yerrorlines lw 2 dt 1 pt 5 lc 1 title 'memit d_m=1, C0 fixed', \
     'rounds.dat' index 1 using ($1+0.04*1):6:7 with yerrorlines lw 2 dt 2 pt 6 lc 2 title 'memit d_m=1, C0 recollect', \
     'rounds.dat' index 2 using ($1+0.04*2):6:7 with yerrorlines lw 2 dt 1 pt 7 lc 3 title 'memit d_m=2, C0 fixed', \
     'rounds.dat' index 3 using ($1+0.04*3):6:7 with yerrorlines lw 2 dt 2 pt 8 lc 4 title 'memit d_m=2, C0 recollect', \
     'rounds.dat' index 4 using ($1+0.04*4):6:7 with yerrorlines lw 2 dt 1 pt 5 lc 5 title 'memit d_m=10, C0 fixed', \
     'rounds.dat' index 5 using ($1+0.04*5):6:7 with yerrorlines lw 2 dt 2 pt 6 lc 6 title 'memit d_m=10, C0 recollect', \
     'rounds.dat' index 6 using ($1+0.04*6):6:7 with yerrorlines lw 2 dt 1 pt 7 lc 7 title 'memit d_m=ref, C0 fixed', \
     'rounds.dat' index 7 using ($1+0.04*7):6:7 with yerrorlines lw 2 dt 2 pt 8 lc 8 title 'memit d_m=ref, C0 recollect'
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'sequential_damage.png'
replot
