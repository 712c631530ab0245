# The DB-GPT HA guide's topology on servers as they usually are: systemd is
# PID 1, you log in as yourself (deploy) and use sudo, the servers are
# reachable only through a bastion, and DB-GPT runs as the unprivileged user
# dbgpt (create it first: useradd --system --no-create-home dbgpt).
# docs/servers.md says what hactl does with each of these.
#
#   hactl validate
#   HACTL_VAR_registry_password=... hactl plan

cluster {
  name          = "dbgpt-ha"
  dbgpt_version = "0.6.3"
}

variable "registry_password" {
  type        = string
  sensitive   = true
  description = "Password of the MySQL user the controllers use for the model registry."
}

defaults {
  user             = "deploy"
  sudo             = true
  run_as           = "dbgpt"
  key_file         = "~/.ssh/id_ed25519"
  known_hosts_file = "~/.ssh/known_hosts"
  host_key_policy  = "strict"
  deploy_dir       = "/opt/hactl/dbgpt-ha"
  log_max_size     = "64MiB"

  jump {
    address = "bastion.example.com"
  }
}

server "server1" {
  address = "192.168.1.11"
}

server "server2" {
  address = "192.168.1.12"
}

server "server3" {
  address = "192.168.1.13"
}

registry "mysql" {
  host            = "192.168.1.10"
  port            = 3306
  database        = "dbgpt"
  user            = "root"
  password        = var.registry_password
  create_database = true
}

model "glm-4-9b-chat" {
  type = "llm"
  path = "/app/models/glm-4-9b-chat"
}

model "text2vec" {
  type = "text2vec"
  path = "/app/models/text2vec-large-chinese"
}

controller "controller1" {
  server = server.server1
  port   = 8000
}

controller "controller2" {
  server = server.server2
  port   = 8000
}

worker "glm-4-9b-chat" {
  server = server.server3
  model  = model.glm-4-9b-chat
  port   = 8001
}

worker "text2vec" {
  server = server.server3
  model  = model.text2vec
  port   = 8003
}

webserver {
  server            = server.server3
  port              = 5670
  light             = true
  remote_embedding  = true
  default_llm       = model.glm-4-9b-chat
  default_embedding = model.text2vec
}
