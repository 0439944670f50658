from seregno_xlsx.cli import main

main()
