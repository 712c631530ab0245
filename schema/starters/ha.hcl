# hactl cluster file: the DB-GPT high-availability topology.
#
# Two model controllers share one MySQL model registry, so either can fail;
# an LLM worker and an embedding worker register with both; a light
# webserver uses them through the controllers.
#
#   hactl validate                   check this file
#   hactl plan                       see what would change on the servers
#   hactl apply                      make it so
#
# Give the registry password without writing it here, e.g.
#   export HACTL_VAR_registry_password=...   or   -var-file secrets.hcl
# Reference of every block and argument: hactl docs cluster-file

cluster {
  name          = "dbgpt-ha"
  dbgpt_version = "0.6.3" # 0.5.9 - 0.6.x: command-line flags; 0.7.0 and later: TOML config
}

variable "registry_password" {
  type        = string
  sensitive   = true # never shown in plans, logs or on command lines
  description = "Password of the MySQL user of the model registry."
}

# Shared by every server block; a server's own argument wins.
defaults {
  user            = "root"
  key_file        = "~/.ssh/id_ed25519"
  host_key_policy = "strict" # or "accept-new" on first contact
  deploy_dir      = "/opt/hactl/dbgpt-ha"
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

# The registry every controller shares. hactl creates the database and the
# registry table when create_database is true.
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
  path = "/app/models/glm-4-9b-chat" # on the worker's server
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
  light             = true # use the controllers above
  remote_embedding  = true
  default_llm       = model.glm-4-9b-chat
  default_embedding = model.text2vec
}
