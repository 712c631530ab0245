# DB-GPT 0.7 (TOML generation) with proxy models: two controllers sharing a
# MySQL registry, an OpenAI LLM and embedding worker (nothing to download),
# a light webserver using the remote embedding model.
#
#   hactl validate
#   HACTL_VAR_registry_password=... HACTL_VAR_openai_api_key=... hactl plan

cluster {
  name          = "dbgpt-proxy"
  dbgpt_version = "0.7.5"
}

variable "registry_password" {
  type        = string
  sensitive   = true
  description = "Password of the MySQL user the controllers use for the model registry."
}

variable "openai_api_key" {
  type        = string
  sensitive   = true
  description = "API key of the OpenAI-compatible service the models use."
}

defaults {
  user            = "root"
  key_file        = "~/.ssh/id_ed25519"
  host_key_policy = "strict"
  deploy_dir      = "/opt/hactl/dbgpt-proxy"
  # A pip install in a virtual environment.
  dbgpt_command = "/opt/dbgpt/.venv/bin/dbgpt"
  env           = { TZ = "UTC" }
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
  database        = "dbgpt"
  user            = "root"
  password        = var.registry_password
  create_database = true
}

model "gpt-4o" {
  type     = "llm"
  provider = "proxy/openai"
  api_base = "https://api.openai.com/v1"
  api_key  = var.openai_api_key
  backend  = "gpt-4o-mini"
  params   = { context_length = "128000" }
}

model "text-embedding-3-small" {
  type     = "text2vec"
  provider = "proxy/openai"
  api_base = "https://api.openai.com/v1"
  api_key  = var.openai_api_key
}

controller "controller1" {
  server = server.server1
}

controller "controller2" {
  server = server.server2
}

worker "llm" {
  server = server.server3
  model  = model.gpt-4o
  port   = 8001
}

worker "embedding" {
  server = server.server3
  model  = model.text-embedding-3-small
  port   = 8003
}

webserver {
  server            = server.server3
  remote_embedding  = true
  default_llm       = model.gpt-4o
  default_embedding = model.text-embedding-3-small
}
