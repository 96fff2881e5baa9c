from registry.definition import build_definition
from shared.cli import main_for

main_for(build_definition, default_port=8001)
