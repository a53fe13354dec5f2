"""Pylontech-style CAN towards an inverter, decoded with cantools from pylontech.dbc."""
