cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

model "m" {
  type = "llm"
  path = "/m"
}

webserver {
  server      = server.s1
  default_llm = model.m
}

# want: 20:17 Default model not served: default_llm is model "m", but no worker serves it
