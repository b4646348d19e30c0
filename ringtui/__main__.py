from ringtui.cli import main

main()
