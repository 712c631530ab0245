# hactl cluster file: DB-GPT on this one machine.
#
# Two controllers share a SQLite registry (a SQLite file works while every
# controller is on one server), with an LLM worker, an embedding worker and
# a light webserver. Commands run here directly (transport "local"), no SSH.
#
#   hactl validate
#   hactl plan
#   hactl apply
#
# Reference of every block and argument: hactl docs cluster-file

cluster {
  name          = "dbgpt-local"
  dbgpt_version = "0.6.3" # 0.5.9 - 0.6.x: command-line flags; 0.7.0 and later: TOML config
}

locals {
  home = "/tmp/hactl-local" # every file hactl writes goes under here
}

server "local" {
  transport     = "local"
  address       = "127.0.0.1"
  deploy_dir    = "${local.home}/deploy"
  dbgpt_command = "dbgpt" # path of the dbgpt command
}

registry "sqlite" {
  path = "${local.home}/registry.db"
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
  server = server.local
  port   = 8000
}

controller "controller2" {
  server = server.local
  port   = 8010
}

worker "glm-4-9b-chat" {
  server = server.local
  model  = model.glm-4-9b-chat
  port   = 8001
}

worker "text2vec" {
  server = server.local
  model  = model.text2vec
  port   = 8003
}

webserver {
  server            = server.local
  port              = 5670
  remote_embedding  = true
  default_llm       = model.glm-4-9b-chat
  default_embedding = model.text2vec
}
