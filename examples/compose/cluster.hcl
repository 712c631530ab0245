# The HA guide's compose variant: a managed MySQL registry, two controllers,
# a proxy LLM and a proxy embedding worker (OpenAI's API: nothing to
# download, no model directory) and a light webserver, each in its own
# container. Apply with `hactl apply --provider compose`.

cluster {
  name          = "dbgpt-ha"
  dbgpt_version = "0.6.3"
}

variable "dbgpt_image" {
  type        = string
  default     = "hactl/dbgpt-sim:latest"
  description = "Image whose dbgpt command runs the components."
}

variable "database_image" {
  type        = string
  default     = "mysql:8.0"
  description = "Image of the registry database."
}

variable "registry_password" {
  type        = string
  sensitive   = true
  description = "Password of the registry database's root user."
}

variable "openai_api_key" {
  type        = string
  sensitive   = true
  description = "API key of the OpenAI-compatible service the models use."
}

variable "openai_api_base" {
  type        = string
  default     = "https://api.openai.com/v1"
  description = "URL of the OpenAI-compatible service."
}

variable "publish" {
  type        = list(string)
  default     = ["webserver", "apiserver"]
  description = "Components reachable from this machine, each at its own port on 127.0.0.1 (the webserver: http://127.0.0.1:5670)."
}

# With compose, each server is a service; its address is the service name.
server "server1" {
  address = "server1"
}

server "server2" {
  address = "server2"
}

server "server3" {
  address = "server3"
}

registry "mysql" {
  host            = "registry-db"
  database        = "dbgpt"
  user            = "root"
  password        = var.registry_password
  create_database = true
}

model "gpt-4o" {
  type          = "llm"
  provider      = "proxy/openai"
  api_base      = var.openai_api_base
  api_key       = var.openai_api_key
  backend       = "gpt-4o-mini"
  start_timeout = "2m"
}

# DB-GPT 0.6 knows a proxy embedding model only by its adapter's name.
model "proxy_openai" {
  type          = "text2vec"
  provider      = "proxy/openai"
  api_base      = var.openai_api_base
  api_key       = var.openai_api_key
  backend       = "text-embedding-3-small"
  start_timeout = "2m"
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
  model  = model.proxy_openai
  port   = 8003
}

webserver {
  server            = server.server3
  remote_embedding  = true
  default_llm       = model.gpt-4o
  default_embedding = model.proxy_openai
}

compose {
  dbgpt_image      = var.dbgpt_image
  database_image   = var.database_image
  managed_database = true
  database_volume  = "dbgpt-ha-registry"
  root_password    = var.registry_password
  publish          = var.publish
}
