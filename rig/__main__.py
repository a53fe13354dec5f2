from rig.cli import app

app(prog_name="rig")
