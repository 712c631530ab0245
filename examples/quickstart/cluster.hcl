# Everything on this machine: no SSH, a SQLite registry shared by two
# controllers, an LLM worker, an embedding worker and a light webserver.
# `make demo` applies it with dbgpt-sim as the dbgpt command.

cluster {
  name          = "quickstart"
  dbgpt_version = "0.6.3"
}

variable "dbgpt_command" {
  type        = string
  default     = "dbgpt"
  description = "The dbgpt command to run (make demo passes bin/dbgpt-sim)."
}

locals {
  root = "/tmp/hactl-quickstart"
}

server "local" {
  transport     = "local"
  address       = "127.0.0.1"
  deploy_dir    = "${local.root}/deploy"
  dbgpt_command = var.dbgpt_command
}

registry "sqlite" {
  path = "${local.root}/registry.db"
}

model "glm-4-9b-chat" {
  type = "llm"
  path = "${local.root}/models/glm-4-9b-chat"
}

model "text2vec" {
  type = "text2vec"
  path = "${local.root}/models/text2vec-large-chinese"
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
