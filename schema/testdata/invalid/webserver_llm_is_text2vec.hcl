cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

model "e" {
  type = "text2vec"
  path = "/e"
}

worker "w" {
  server = server.s1
  model  = model.e
}

webserver {
  server      = server.s1
  default_llm = model.e
}

# want: 25:17 Wrong model type: default_llm must be an llm model, but model "e" is a text2vec model.
