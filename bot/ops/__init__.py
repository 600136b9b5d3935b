"""What operates the stack: the runner that prepares (encoder, index, Rasa model, schema) and
supervises the processes (runner.py, rasa_model.py; `make run`), the production stack with
replicas behind nginx (production/; `make run-prod`), and the benchmarks (bench/).
"""
