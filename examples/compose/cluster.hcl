# The HA guide's cluster as a docker compose project: a managed MySQL
# registry, two controllers, two workers and a light webserver, each in its
# own container. Apply with `hactl apply --provider compose`.

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
}

controller "controller2" {
  server = server.server2
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
  remote_embedding  = true
  default_llm       = model.glm-4-9b-chat
  default_embedding = model.text2vec
}

compose {
  dbgpt_image      = var.dbgpt_image
  database_image   = var.database_image
  managed_database = true
  database_volume  = "dbgpt-ha-registry"
  root_password    = var.registry_password
}
