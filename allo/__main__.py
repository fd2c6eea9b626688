from allo.cli import main

raise SystemExit(main())
