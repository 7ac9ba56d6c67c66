from bench.accuracy.run import main

main()
