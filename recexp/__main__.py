from recexp.cli import main

main()
