"""What runs inside the Rasa server process (`python -m bot.rasa_server run ...`, started by the
runner): the channels customers write on (channels/), the tracker store and lock store
(stores/), the per-turn understanding component in the NLU pipeline (understanding/), the
stand-ins for a down or hung action server (actions_down.py), and the patches applied before
Rasa starts (__main__.py). Rasa finds these by the dotted paths in credentials.yml,
config.yml and the endpoints the runner writes.
"""
