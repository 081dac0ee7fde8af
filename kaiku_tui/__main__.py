from kaiku_tui.cli import main

raise SystemExit(main())
