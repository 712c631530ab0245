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
  type = "embedding"
  path = "/m"
}

# want: 14:10 Invalid model type: A model's type is "llm", "text2vec" or "reranker", not "embedding".
