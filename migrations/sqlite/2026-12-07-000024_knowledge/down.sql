DROP TABLE knowledge_search;
DROP TABLE knowledge_articles;
