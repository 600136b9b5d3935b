"""nginx's configuration for the production stack, written for each run into the run folder.

Two listeners, both on 127.0.0.1 (put TLS and the public address in front, as for the console):
- the Rasa port (BOT_RASA_PORT): customers' channels and the Rasa API, spread over the Rasa
  replicas. A replica that refuses connections (dead, restarting) is skipped and the request
  goes to the next one; a request already sent is never re-sent (a customer message must not
  be processed twice). socket.io (the web widget) sticks to one replica per client address,
  because a socket.io session lives in one process. Requests per client address are limited
  (a burst allowance, then 429), on top of the per-sender limit in the channels.
- the actions port (BOT_ACTIONS_PORT): Rasa's calls to the action servers, spread the same way.
"""

from __future__ import annotations

from pathlib import Path

REQUESTS_PER_SECOND_PER_ADDRESS = 200  # generous: a shop's own proxy may send every customer from one address


def config(run_dir: Path, rasa_port: int, replica_ports: list[int], actions_port: int,
           action_ports: list[int]) -> str:
    """The whole nginx.conf for one run (nginx runs in the foreground under the supervisor)."""
    temp = run_dir / "nginx-temp"
    rasa = "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=3s;" for port in replica_ports)
    actions = "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=3s;" for port in action_ports)
    return f"""# Written by bot.ops.production for this run; edit bot/ops/production/nginx.py instead.
daemon off;
worker_processes 1;
pid {run_dir}/nginx-{rasa_port}.pid;
error_log {run_dir}/nginx-{rasa_port}-error.log warn;
events {{ worker_connections 4096; }}

http {{
  access_log off;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  # Bodies and responses stay in memory: nginx's workers run as an unprivileged user that may
  # not write into the run folder, and these are small JSON documents anyway.
  client_max_body_size 1m;
  client_body_buffer_size 1m;
  proxy_max_temp_file_size 0;
  proxy_buffer_size 64k;
  proxy_buffers 16 64k;
  limit_req_zone $binary_remote_addr zone=per_address:10m rate={REQUESTS_PER_SECOND_PER_ADDRESS}r/s;
  limit_req_status 429;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}

  upstream rasa {{
{rasa}
    keepalive 64;
  }}
  upstream rasa_sticky {{
    ip_hash;
{rasa}
  }}
  upstream actions {{
{actions}
    keepalive 32;
  }}

  server {{
    listen 127.0.0.1:{rasa_port};
    proxy_http_version 1.1;
    proxy_read_timeout 120s;
    proxy_next_upstream error timeout;
    proxy_next_upstream_tries 3;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    location /socket.io/ {{
      proxy_pass http://rasa_sticky;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }}
    location /webhooks/widget/attachments {{
      client_max_body_size 6m;  # a photo or PDF of at most 5 MB (bot/domain/attachments.py) and its form
      client_body_buffer_size 6m;
      limit_req zone=per_address burst=20 nodelay;
      proxy_pass http://rasa;
      proxy_set_header Connection "";
    }}
    location / {{
      limit_req zone=per_address burst=400 nodelay;
      proxy_pass http://rasa;
      proxy_set_header Connection "";
    }}
  }}

  server {{
    listen 127.0.0.1:{actions_port};
    client_max_body_size 32m;  # Rasa sends the whole tracker and domain with every action call
    client_body_buffer_size 32m;
    proxy_http_version 1.1;
    proxy_read_timeout 60s;
    proxy_next_upstream error timeout;
    location / {{
      proxy_pass http://actions;
      proxy_set_header Connection "";
    }}
  }}
}}
"""
