cluster {
  name          = "t"
  dbgpt_version = "0.6.3"
}

server "s1" {
  address = "10.0.0.1"
}

model "text2vec-large-chinese" {
  type = "text2vec"
  path = "/models/text2vec-large-chinese"
}

controller "c1" {
  server = server.s1
}

worker "e" {
  server = server.s1
  model  = model.text2vec-large-chinese
}

webserver {
  server            = server.s1
  default_embedding = model.text2vec-large-chinese
}

# want: 26:23 Embedding model unknown to DB-GPT 0.6.3: default_embedding is model "text2vec-large-chinese"
