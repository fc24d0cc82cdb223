DROP TABLE vault_numbers;
