"""What the customer's message means, decided once per turn in the Rasa server.

DIET names the kind of message (a question, a complaint, a yes, a rating...), the FAQ search
says how well the knowledge base answers it, and the conversation says what the bot just
asked. `turn.decide` weighs the three in one readable place; `component.TurnUnderstanding` is
the Rasa graph component (last in config.yml's pipeline) that gathers them and applies it.
"""
