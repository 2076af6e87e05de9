from ycecli.cli.app import main

main()
