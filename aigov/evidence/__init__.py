"""The ISO/IEC 42001 evidence pack: collected at the edge (`collect`), rendered purely (`document`, `report`)."""
