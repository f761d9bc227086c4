from cscli.cli import main

main()
