set terminal svg size 1000,620 dynamic enhanced font 'Helvetica,13'
set output 'spectra.svg'
set datafile separator ','
set key outside right top box
set grid
set tics nomirror
set title "Eigenvalues of C0 = K0 K0^T / P, largest first, with the Marchenko-Pastur band of isotropic keys (dashed)"
set xlabel "eigenvalue index / d_k"
set ylabel "eigenvalue of C0 (squared key units)"
set logscale y
set format y "10^{%L}"
dms = "0.5 1.0 1.5 2.0 3.0 4.0 10.0"
plot for [i=1:words(dms)] 'spectra.csv' using ($1==word(dms,i)+0 ? $3 : 1/0):4 with lines lw 2 lc i title sprintf("d_m = %s", word(dms,i)), \
     for [i=1:words(dms)] 'spectra.csv' using ($1==word(dms,i)+0 ? $3 : 1/0):5 with lines dt 2 lc i notitle, \
     for [i=1:words(dms)] 'spectra.csv' using ($1==word(dms,i)+0 ? $3 : 1/0):6 with lines dt 2 lc i notitle
set terminal pngcairo size 1000,620 enhanced font 'Helvetica,11'
set output 'spectra.png'
replot
