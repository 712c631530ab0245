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

worker "w" {
  server = server.s1
  model  = model.m
}

webserver {
  server            = server.s1
  default_llm       = model.m
  default_embedding = model.m
}

# want: 26:23 Wrong model type: default_embedding must be a text2vec model, but model "m" is an llm model.
