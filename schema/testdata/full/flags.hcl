# Sets every argument of every block (flags generation). TestEveryArgumentDecoded
# checks that the decoder reads each argument spec.go lists.
cluster {
  name          = "full"
  dbgpt_version = "0.6.3"
}

variable "pw" {
  type        = string
  default     = "secret"
  description = "registry password"
  sensitive   = true
}

locals {
  dir = "/srv/hactl"
}

defaults {
  transport        = "ssh"
  user             = "deploy"
  ssh_port         = 2222
  key_file         = "/keys/id"
  use_agent        = true
  host_key_policy  = "accept-new"
  known_hosts_file = "/keys/known_hosts"
  sudo             = true
  deploy_dir       = local.dir
  dbgpt_command    = "/usr/local/bin/dbgpt"
  connect_timeout  = "5s"
  command_timeout  = "2m"
  env              = { PYTHONPATH = "/opt/lib", SHARED = "defaults" }
  run_as           = "dbgpt"
  log_max_size     = "1MiB"

  jump {
    address  = "10.0.0.254"
    port     = 2200
    user     = "jumper"
    key_file = "/keys/jump"
  }
}

server "s1" {
  address          = "10.0.0.1"
  transport        = "ssh"
  user             = "ops"
  ssh_port         = 22
  key_file         = "/keys/s1"
  use_agent        = false
  host_key_policy  = "strict"
  known_hosts_file = "/keys/kh"
  sudo             = false
  deploy_dir       = "/opt/s1"
  dbgpt_command    = "/opt/venv/bin/python -m 'dbgpt.cli.cli_scripts'"
  connect_timeout  = "3s"
  command_timeout  = "30s"
  env              = { SHARED = "s1", KEY = var.pw }
  run_as           = "ops"
  log_max_size     = 1048576

  jump {
    address = "10.0.0.253"
  }
}

server "s2" {
  address = "10.0.0.2"
}

registry "mysql" {
  host            = "10.0.0.10"
  port            = 3307
  database        = "reg"
  user            = "reg_user"
  password        = var.pw
  create_database = true
  pool_size       = 5
  max_overflow    = 10
}

model "llm" {
  type   = "llm"
  path   = "/models/llm"
  params = { max_length = 4096 }
}

model "text2vec" {
  type = "text2vec"
  path = "/models/emb"
}

model "gpt-4o" {
  type          = "llm"
  provider      = "proxy/openai"
  api_base      = "https://api.example.com/v1"
  api_key       = var.pw
  backend       = "gpt-4o-mini"
  start_timeout = "90s"
}

controller "c1" {
  server             = server.s1
  host               = "10.0.0.1"
  port               = 8000
  heartbeat_interval = 10
  heartbeat_timeout  = 30
  log_level          = "debug"
  env                = { A = "1" }
}

controller "c2" {
  server = server.s2
}

worker "w1" {
  server                  = server.s2
  model                   = model.llm
  host                    = "0.0.0.0"
  port                    = 8001
  device                  = "cuda"
  heartbeat_interval      = 15
  limit_model_concurrency = 4
  prompt_template         = "glm"
  log_level               = "WARNING"
  extra_args              = ["--max_gpu_memory", "20Gib"]
  env                     = { CUDA_VISIBLE_DEVICES = "0" }
}

worker "w3" {
  server = server.s1
  model  = model.gpt-4o
  port   = 8003
}

worker "w2" {
  server = server.s2
  model  = model.text2vec
  port   = 8002
}

webserver {
  server            = server.s1
  host              = "0.0.0.0"
  port              = 5000
  light             = true
  remote_embedding  = true
  remote_rerank     = false
  default_llm       = model.llm
  default_embedding = model.text2vec
  log_level         = "INFO"
  meta_database     = "registry"
  extra_args        = ["--disable_alembic_upgrade"]
  env               = { B = "2" }
}

apiserver {
  server    = server.s2
  host      = "0.0.0.0"
  port      = 8100
  api_keys  = [var.pw]
  log_level  = "ERROR"
  extra_args = ["--x", "y"]
  env        = { TOKEN = var.pw }
}

compose {
  project          = "fullproj"
  dbgpt_image      = "example/dbgpt:0.6.3"
  database_image   = "mariadb:11"
  managed_database = true
  database_volume  = "regdata"
  root_password    = var.pw
  models_dir       = "/models"
  publish          = ["webserver", "controllers"]
  publish_address  = "0.0.0.0"
  access           = "exec"
}
