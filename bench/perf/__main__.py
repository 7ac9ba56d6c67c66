from bench.perf.runner import main

main()
