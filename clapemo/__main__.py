from clapemo.cli import main

raise SystemExit(main())
