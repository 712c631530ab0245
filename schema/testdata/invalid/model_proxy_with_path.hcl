cluster {
  name          = "t"
  dbgpt_version = "0.7.5"
}

variable "key" {
  sensitive = true
  default   = "sk-1234"
}

server "s1" {
  address = "10.0.0.1"
}

model "gpt-4o" {
  type          = "llm"
  provider      = "proxy/openai"
  path          = "/models/gpt"
  api_key       = var.key
  start_timeout = "0s"
}

model "local" {
  type    = "llm"
  path    = "/models/local"
  backend = "x"
}

controller "c1" {
  server = server.s1
}

worker "w" {
  server = server.s1
  model  = model.gpt-4o
}

worker "l" {
  server = server.s1
  model  = model.local
  port   = 8002
}

# want: 18:19 Path for a proxy model: it has no weights, so it takes no path
# want: 20:19 Invalid duration: "start_timeout" must be a positive duration
# want: 26:13 Setting only for proxy models: backend is a setting of proxy models; model "local" is served by hf
