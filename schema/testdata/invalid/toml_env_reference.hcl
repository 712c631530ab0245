cluster {
  name          = "t"
  dbgpt_version = "0.7.0"
}

server "s1" {
  address = "10.0.0.1"
}

model "m" {
  type   = "llm"
  path   = "/models/m"
  params = { quantization = "x$${env:HOME}y" }
}

controller "c1" {
  server = server.s1
}

worker "w" {
  server          = server.s1
  model           = model.m
  prompt_template = "$${env:AWS_SECRET_ACCESS_KEY}"
}

# want: 13:14 Environment reference in value: The value of "quantization" holds "${env:HOME}"
# want: 23:21 Environment reference in value: The value holds "${env:AWS_SECRET_ACCESS_KEY}"
