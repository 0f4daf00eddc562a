"""Does the sprite drawer start from the right emoji when a prompt is written as people write it?

The sprite drawer starts from the bank entry that best matches the prompt (pixray/guide/bank.py:
best_entry); the pixel drawer is steered by the same text tower. Two sets of prompts, each with the
emoji a person would accept (their main names):
- the 36 paraphrases of benchmarks/guide_quality.py;
- 40 prompts whose thing is named by a word the emoji names lack ("a small cottage", "a fluffy puppy",
  "a wild stallion"): synonyms, kinds and young of things that have an emoji;
- 40 scenes: a thing doing something or somewhere ("a dragon breathing fire", "a cat in a hat"), where
  the other words name emoji too;
- 52 prompts of both kinds written later (session 20), held out from the changes made from the misses
  of the first three;
- 53 things game makers draw as sprites ("a wizard", "a sword", "a spaceship");
- 53 everyday things and game sprites written in session 21, held out from the changes made since.
- 74 sprites written in session 22 and 82 in session 23 (things none of the sets above asks for), each
  held out from the changes made since;
- 84 written in session 26, many named by two words as people name them ("a fire truck", "a sea lion",
  "a cell phone"), written before that session's change (readings of such phrases) and measured before it;
- 88 written in session 27 (everyday things: "a trash can", "a hand saw", "a bird's nest"), written and
  measured before that session's change (the sentence encoder's readings, guide/aliases.py teacher_readings);
- 86 written in session 29 before its change: prompts as pixray users write them ("a red apple, pixel
  art"), plurals and counts ("two mice"), other spellings ("an aeroplane"), moods and materials.
Rows switch on, one at a time, the readings of unknown words (WordNet's and emoji tags', guide/aliases.py),
the name-overlap term of best_entry and its second count of the prompt's subject (bank.subject). Pure
retrieval: no drawing, about six minutes on two cores (5 min 56 s in session 29).

    python benchmarks/retrieval.py [--misses] [--compare OTHER_GUIDE.pt]

`--compare` adds the shipped row for another guide file (an older one: `git show REV:pixray/data/guide.pt`).
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import torch

from guide_quality import PARAPHRASES
from pixray.guide.bank import OVERLAP_WEIGHT, best_entry, fingerprint, guide_view
from pixray.guide.model import GuideModel
from pixray.guide.prior import PRIOR_WEIGHTS, SpritePrior
from pixray.perceptors import GUIDE_WEIGHTS

# paraphrase → the main names of the emoji a person would accept
PARAPHRASE_TARGETS = [
    {"red apple"}, {"sun", "sun with face"}, {"frog"}, {"pizza"}, {"rocket"}, {"automobile", "racing car"},
    {"cat face", "cat"}, {"dog face", "dog"}, {"banana"}, {"strawberry"}, {"watermelon"}, {"birthday cake"},
    {"doughnut"}, {"ice cream", "soft ice cream"}, {"hamburger"}, {"snowman", "snowman without snow"},
    {"christmas tree"}, {"house", "house with garden", "hut"}, {"castle", "japanese castle"}, {"cactus"},
    {"sunflower"}, {"red heart"}, {"star", "glowing star"}, {"crescent moon"}, {"rainbow"}, {"cloud"},
    {"ghost"}, {"robot"}, {"crown"}, {"soccer ball"}, {"tropical fish"}, {"penguin"}, {"turtle"}, {"owl"},
    {"mushroom"}, {"skull", "skull and crossbones"},
]
# Written before measuring; the thing's word is not in the guide's vocabulary.
UNKNOWN_WORDS = [
    ("a small cottage", {"house", "house with garden", "hut"}),
    ("a grand mansion", {"house", "house with garden", "classical building"}),
    ("a tall skyscraper", {"office building", "cityscape", "building construction"}),
    ("a fluffy puppy", {"dog", "dog face", "poodle"}),
    ("a tabby cat", {"cat", "cat face"}),
    ("a sleepy kitty", {"cat", "cat face"}),
    ("a grumpy tomcat", {"cat", "cat face"}),
    ("a wild stallion", {"horse", "horse face"}),
    ("a little pony", {"horse", "horse face"}),
    ("a young fawn", {"deer"}),
    ("a proud stag", {"deer"}),
    ("a hawk in the sky", {"eagle", "bird"}),
    ("a tiny sparrow", {"bird"}),
    ("a brown hen", {"chicken", "hen"}),
    ("a red ladybird", {"lady beetle"}),
    ("a fat bumblebee", {"honeybee"}),
    ("a pet goldfish", {"fish", "tropical fish"}),
    ("a blue sedan", {"automobile", "racing car", "sport utility vehicle"}),
    ("a big lorry", {"delivery truck", "pickup truck", "articulated lorry"}),
    ("a fast motorbike", {"motorcycle", "motor scooter"}),
    ("a jet airliner", {"airplane", "small airplane", "airplane departure", "airplane arrival"}),
    ("an alien spaceship", {"flying saucer", "rocket"}),
    ("a sailing yacht", {"sailboat", "speedboat", "motor boat", "passenger ship", "ship"}),
    ("a blueberry muffin", {"cupcake", "bread", "blueberries"}),
    ("a stack of pancakes", {"pancakes"}),
    ("a hot cup of coffee", {"hot beverage", "teacup without handle"}),
    ("a pair of sneakers", {"running shoe"}),
    ("a sparkling ruby", {"gem stone"}),
    ("a diamond ring", {"ring", "gem stone"}),
    ("a wizard casting spells", {"mage", "man mage", "woman mage"}),
    ("a tall oak", {"deciduous tree"}),
    ("a pine in the snow", {"evergreen tree"}),
    ("a thunderstorm", {"cloud with lightning", "cloud with lightning and rain", "high voltage"}),
    ("a daisy", {"blossom", "white flower", "sunflower"}),
    ("a shiny trumpet", {"trumpet"}),
    ("a sharp sword", {"crossed swords", "dagger"}),
    ("a baby piglet", {"pig", "pig face"}),
    ("a lighthouse by the sea", {"lighthouse"}),
    ("a cuddly teddy", {"teddy bear"}),
    ("a pirate ship", {"ship", "sailboat", "passenger ship", "pirate flag"}),
]
# Written before measuring (session 16): a thing doing something or somewhere, as pixray prompts often
# are; the picture should be of the first thing named (other emoji name the rest: fire, hat, ball).
SCENES = [
    ("a dragon breathing fire", {"dragon", "dragon face"}),
    ("a witch on a broom", {"mage", "woman mage", "man mage"}),
    ("a cat wearing a hat", {"cat", "cat face"}),
    ("a dog with a ball", {"dog", "dog face"}),
    ("a house by a lake", {"house", "house with garden"}),
    ("a bird on a branch", {"bird"}),
    ("a fish in a bowl", {"fish", "tropical fish"}),
    ("a snowman with a scarf", {"snowman", "snowman without snow"}),
    ("a pirate ship on the sea", {"ship", "sailboat"}),
    ("a robot holding a flower", {"robot"}),
    ("a frog on a lily pad", {"frog"}),
    ("a bee on a flower", {"honeybee"}),
    ("a horse in a field", {"horse", "horse face"}),
    ("a castle on a hill", {"castle", "japanese castle"}),
    ("a car on the road", {"automobile", "racing car"}),
    ("an owl in a tree", {"owl"}),
    ("a rabbit with a carrot", {"rabbit", "rabbit face"}),
    ("a penguin on the ice", {"penguin"}),
    ("a tree in the snow", {"evergreen tree", "deciduous tree", "christmas tree"}),
    ("a cup of coffee", {"hot beverage", "teacup without handle"}),
    ("a slice of cheese", {"cheese wedge"}),
    ("a glass of milk", {"glass of milk"}),
    ("a piece of cake", {"shortcake", "birthday cake"}),
    ("a bunch of grapes", {"grapes"}),
    ("a mouse eating cheese", {"mouse", "mouse face"}),
    ("a monkey with a banana", {"monkey", "monkey face"}),
    ("a spider in its web", {"spider"}),
    ("a turtle on the beach", {"turtle"}),
    ("a ghost in a house", {"ghost"}),
    ("a sun over the mountains", {"sun", "sun with face", "sunrise over mountains"}),
    ("a lion with a crown", {"lion"}),
    ("a pig in the mud", {"pig", "pig face"}),
    ("a unicorn under a rainbow", {"unicorn"}),
    ("a bear holding a honey pot", {"bear", "teddy bear"}),
    ("an elephant with a hat", {"elephant"}),
    ("a cow in the grass", {"cow", "cow face"}),
    ("a tiger in the jungle", {"tiger", "tiger face"}),
    ("an umbrella in the rain", {"umbrella", "umbrella with rain drops"}),
    ("a rocket among the stars", {"rocket"}),
    ("an apple on a table", {"red apple", "green apple"}),
]

# Written in session 20 before retrieval was changed again (tags as readings, the subject's head word):
# held out from the misses of the sets above, which that change was made from.
FRESH = [
    ("a wise old wizard", {"mage", "man mage", "woman mage"}),
    ("a sorceress", {"mage", "man mage", "woman mage"}),
    ("a green dinosaur", {"sauropod", "t-rex"}),
    ("a red fire truck", {"fire engine"}),
    ("a police car", {"police car", "oncoming police car"}),
    ("a red ladybug", {"lady beetle"}),
    ("a honey bee", {"honeybee"}),
    ("a little kitten", {"cat", "cat face"}),
    ("a loyal hound", {"dog", "dog face", "guide dog", "service dog"}),
    ("a baby chick", {"baby chick", "hatching chick", "front-facing baby chick"}),
    ("a grey mouse", {"mouse", "mouse face"}),
    ("a scary shark", {"shark"}),
    ("a giant whale", {"whale", "spouting whale"}),
    ("a slimy snail", {"snail"}),
    ("a juicy peach", {"peach"}),
    ("a bunch of bananas", {"banana"}),
    ("a ripe tomato", {"tomato"}),
    ("a crunchy carrot", {"carrot"}),
    ("a glass of wine", {"wine glass"}),
    ("a bowl of noodles", {"steaming bowl"}),
    ("a slice of pizza", {"pizza"}),
    ("a chocolate bar", {"chocolate bar"}),
    ("a cup of tea", {"teacup without handle", "hot beverage"}),
    ("a snowy mountain", {"snow-capped mountain", "mountain"}),
    ("a tropical island", {"desert island"}),
    ("a lightning bolt", {"high voltage", "cloud with lightning"}),
    ("a full moon", {"full moon", "full moon face"}),
    ("a shooting star", {"shooting star"}),
    ("an old key", {"old key", "key"}),
    ("a golden trophy", {"trophy"}),
    ("an electric guitar", {"guitar"}),
    ("a steam locomotive", {"locomotive"}),
    ("a city bus", {"bus", "oncoming bus"}),
    ("a vampire with fangs", {"vampire", "man vampire", "woman vampire"}),
    ("a mermaid in the sea", {"merperson", "mermaid"}),
    ("a fairy with wings", {"fairy", "man fairy", "woman fairy"}),
    ("a magic wand", {"magic wand"}),
    ("a crystal ball", {"crystal ball"}),
    ("a carved pumpkin", {"jack-o-lantern"}),
    ("a christmas present", {"wrapped gift"}),
    ("an alarm clock", {"alarm clock"}),
    ("a kitchen knife", {"kitchen knife"}),
    ("a heavy hammer", {"hammer", "hammer and wrench", "hammer and pick"}),
    ("a stormy sky", {"cloud with lightning", "cloud with lightning and rain", "cloud with rain"}),
    ("a puppy chasing a ball", {"dog", "dog face"}),
    ("a kitten playing with yarn", {"cat", "cat face"}),
    ("an astronaut in space", {"astronaut", "man astronaut", "woman astronaut"}),
    ("a chef cooking soup", {"cook", "man cook", "woman cook"}),
    ("a panda eating bamboo", {"panda"}),
    ("a fox in the snow", {"fox"}),
    ("a bat at night", {"bat"}),
    ("a squirrel with an acorn", {"chipmunk"}),
]

# What game makers type for sprites (session 20). Not held out: half of them were tried before the change
# (a wizard drew a star, a sword a person fencing, a spaceship a bus).
GAME = [
    ("a wizard", {"mage", "man mage", "woman mage"}), ("a witch", {"mage", "woman mage"}),
    ("a goblin", {"goblin"}), ("a skeleton", {"skull", "skull and crossbones"}),
    ("a sword", {"crossed swords", "dagger"}), ("a bow", {"bow and arrow", "ribbon"}),
    ("a wooden shield", {"shield"}), ("a dragon", {"dragon", "dragon face"}),
    ("an elf", {"elf", "man elf", "woman elf"}),
    ("a zombie", {"zombie", "man zombie", "woman zombie"}), ("a troll", {"troll"}), ("an ogre", {"ogre"}),
    ("a gold coin", {"coin"}), ("a spell book", {"open book", "closed book", "books"}),
    ("a red mushroom", {"mushroom"}), ("a fire ball", {"fire", "comet"}), ("a bomb", {"bomb"}),
    ("a key", {"key", "old key"}), ("a door", {"door"}), ("a ladder", {"ladder"}), ("a bat", {"bat"}),
    ("a spider", {"spider"}), ("a ninja", {"ninja"}), ("a princess", {"princess"}),
    ("a king", {"crown", "prince", "person with crown"}), ("a spaceship", {"flying saucer", "rocket"}),
    ("a tree", {"deciduous tree", "evergreen tree", "palm tree", "christmas tree"}), ("a rock", {"rock"}),
    ("a torch", {"flashlight", "fire"}), ("an axe", {"axe"}), ("a pickaxe", {"pick", "hammer and pick"}),
    ("a magic wand", {"magic wand"}), ("a crystal ball", {"crystal ball"}), ("a gem", {"gem stone"}),
    ("a ring", {"ring"}), ("a scroll", {"scroll"}), ("a map", {"world map", "map of japan"}),
    ("a chicken leg", {"poultry leg"}), ("a loaf of bread", {"bread", "baguette bread"}),
    ("a snake", {"snake"}), ("a wolf", {"wolf"}), ("a wild boar", {"boar"}), ("a crab", {"crab"}),
    ("an octopus", {"octopus"}), ("a vampire", {"vampire", "man vampire", "woman vampire"}),
    ("a genie", {"genie", "man genie", "woman genie"}), ("a fairy", {"fairy", "man fairy", "woman fairy"}),
    ("a unicorn", {"unicorn"}), ("a tent", {"tent", "camping"}), ("a campfire", {"fire"}), ("a trophy", {"trophy"}),
    ("a helmet", {"rescue worker’s helmet", "military helmet"}), ("a treasure map", {"world map"}),
]


# Everyday things and game sprites written in session 21 before measuring, held out from every change
# made since (none of them is in the sets above).
FRESH_21 = [
    ("a juicy orange", {"tangerine"}), ("a hot dog with mustard", {"hot dog"}),
    ("a bowl of ramen", {"steaming bowl"}), ("a wedge of cheese", {"cheese wedge"}),
    ("a fried egg", {"cooking", "egg"}), ("an ear of corn", {"ear of corn"}),
    ("a spicy pepper", {"bell pepper", "hot pepper"}), ("a ripe avocado", {"avocado"}), ("a cherry", {"cherries"}),
    ("a sour lemon", {"lemon"}), ("a sleepy koala", {"koala"}), ("a hungry shark", {"shark"}),
    ("a jumping dolphin", {"dolphin"}), ("a big blue whale", {"spouting whale", "whale"}),
    ("a slithering snake", {"snake"}), ("a green lizard", {"lizard"}), ("a pink flamingo", {"flamingo"}),
    ("a black spider", {"spider"}), ("a busy ant", {"ant"}), ("a pet hamster", {"hamster"}),
    ("a striped zebra", {"zebra"}), ("a tall giraffe", {"giraffe"}), ("a grey elephant", {"elephant"}),
    ("a fox in the forest", {"fox"}), ("a monkey eating a banana", {"monkey", "monkey face"}),
    ("a fluffy bunny", {"rabbit", "rabbit face"}), ("a colourful parrot", {"parrot"}), ("a red crab", {"crab"}),
    ("a golden key", {"key", "old key"}), ("a bomb with a fuse", {"bomb"}), ("an old scroll", {"scroll"}),
    ("a battle axe", {"axe"}), ("a sneaky ninja", {"ninja"}), ("a mermaid", {"mermaid", "merperson"}),
    ("a fire-breathing dragon", {"dragon", "dragon face"}), ("an erupting volcano", {"volcano"}),
    ("a tornado", {"tornado"}), ("a rain cloud", {"cloud with rain"}),
    ("a palm tree on a beach", {"desert island", "palm tree"}), ("a red rose", {"rose"}),
    ("a four leaf clover", {"four leaf clover"}),
    ("an autumn leaf", {"fallen leaf", "leaf fluttering in wind", "maple leaf"}),
    ("a yellow taxi", {"oncoming taxi", "taxi"}), ("an old steam train", {"locomotive"}),
    ("a helicopter", {"helicopter"}), ("a musical note", {"musical note", "musical notes"}),
    ("a gold medal", {"1st place medal", "sports medal"}), ("a birthday present", {"wrapped gift"}),
    ("a party balloon", {"balloon"}), ("a light bulb", {"light bulb"}), ("a pair of glasses", {"glasses"}),
    ("a teddy bear", {"teddy bear"}), ("an hourglass", {"hourglass done", "hourglass not done"}),
]

# Written in session 22 before any change that session, as a person would ask for a sprite; held out.
FRESH_22 = [
    ("a green pear", {"pear"}), ("a hairy coconut", {"coconut"}), ("a pineapple", {"pineapple"}),
    ("a head of broccoli", {"broccoli"}), ("a cupcake with sprinkles", {"cupcake"}),
    ("a swirly lollipop", {"lollipop"}), ("a crunchy taco", {"taco"}), ("a burrito", {"burrito"}),
    ("a bucket of popcorn", {"popcorn"}), ("a salty pretzel", {"pretzel"}), ("a bowl of salad", {"green salad"}),
    ("a ripe mango", {"mango"}), ("a kiwi fruit", {"kiwi fruit"}), ("a baked sweet potato", {"roasted sweet potato"}),
    ("a bagel with cream cheese", {"bagel"}), ("a buttery croissant", {"croissant"}),
    ("a waffle with syrup", {"waffle"}), ("a steamed dumpling", {"dumpling"}), ("a piece of sushi", {"sushi"}),
    ("a fortune cookie", {"fortune cookie"}), ("a chocolate chip cookie", {"cookie"}),
    ("a beautiful butterfly", {"butterfly"}), ("a glowing jellyfish", {"jellyfish"}),
    ("a desert scorpion", {"scorpion"}), ("a proud peacock", {"peacock"}), ("a white swan", {"swan"}),
    ("a spiky hedgehog", {"hedgehog"}), ("a busy beaver", {"beaver"}), ("a lazy sloth", {"sloth"}),
    ("a playful otter", {"otter"}), ("a smelly skunk", {"skunk"}), ("a hopping kangaroo", {"kangaroo"}),
    ("a fluffy llama", {"llama"}), ("a rubber duck", {"duck"}), ("a bald eagle", {"eagle"}),
    ("a baby seal", {"seal"}), ("a red lobster", {"lobster"}), ("a wriggling worm", {"worm"}),
    ("a two-humped camel", {"two-hump camel", "camel"}), ("a red-nosed reindeer", {"deer"}),
    ("a rusty wrench", {"wrench"}), ("a lit candle", {"candle"}), ("a locked padlock", {"locked"}),
    ("a horseshoe magnet", {"magnet"}), ("a telescope", {"telescope"}), ("a marching drum", {"drum"}),
    ("a paint brush", {"paintbrush"}), ("a flying kite", {"kite"}), ("a skateboard", {"skateboard"}),
    ("a pair of scissors", {"scissors"}), ("a yellow pencil", {"pencil"}), ("a school backpack", {"backpack"}),
    ("a compass", {"compass"}), ("a video game controller", {"video game"}), ("a pair of dice", {"game die"}),
    ("a puzzle piece", {"puzzle piece"}), ("a chess pawn", {"chess pawn"}), ("a microscope", {"microscope"}),
    ("a medicine pill", {"pill"}), ("a battery", {"battery"}), ("an orbiting satellite", {"satellite"}),
    ("an old-fashioned telephone", {"telephone"}), ("a snowflake", {"snowflake"}),
    ("a shooting comet", {"comet"}), ("a planet with rings", {"ringed planet"}),
    ("a ferris wheel", {"ferris wheel"}), ("a roller coaster", {"roller coaster"}),
    ("a foggy morning", {"fog", "foggy"}), ("a sunset over the sea", {"sunset"}),
    ("a mountain bike", {"bicycle"}), ("a sailboat", {"sailboat"}), ("a jumbo jet", {"airplane"}),
    ("a farm tractor", {"tractor"}), ("a basketball", {"basketball"}),
]

# Written in session 23 before any change that session, things not asked for in the sets above, as a game
# maker or a pixel artist asks for a sprite; held out.
FRESH_23 = [
    ("crispy bacon", {"bacon"}), ("a bowl of rice", {"cooked rice"}), ("a rice ball", {"rice ball"}),
    ("a jar of honey", {"honey pot"}), ("a green olive", {"olive"}), ("a bell pepper", {"bell pepper"}),
    ("a fresh cucumber", {"cucumber"}), ("a handful of blueberries", {"blueberries"}),
    ("a french baguette", {"baguette bread"}), ("a ham sandwich", {"sandwich"}), ("a bubble tea", {"bubble tea"}),
    ("a mug of beer", {"beer mug", "clinking beer mugs"}), ("a fruity cocktail", {"cocktail glass", "tropical drink"}),
    ("a polar bear", {"polar bear"}), ("a hippo", {"hippopotamus"}), ("a rhino", {"rhinoceros"}),
    ("a woolly mammoth", {"mammoth"}), ("a mountain goat", {"goat"}), ("a thanksgiving turkey", {"turkey"}),
    ("a white dove", {"dove"}), ("an annoying mosquito", {"mosquito"}), ("a shiny beetle", {"beetle", "lady beetle"}),
    ("a giant squid", {"squid"}), ("a puffer fish", {"blowfish"}), ("a snapping crocodile", {"crocodile"}),
    ("a masked raccoon", {"raccoon"}), ("a spotted leopard", {"leopard"}), ("an orangutan", {"orangutan"}),
    ("a black cat", {"black cat"}), ("a moose with antlers", {"moose"}), ("a stubborn donkey", {"donkey"}),
    ("a wooden boomerang", {"boomerang"}), ("a toolbox", {"toolbox"}), ("a screwdriver", {"screwdriver"}),
    ("a magnifying glass", {"magnifying glass tilted left", "magnifying glass tilted right"}),
    ("a flashlight", {"flashlight"}), ("a letter in an envelope", {"envelope", "envelope with arrow"}),
    ("a cardboard box", {"package"}), ("a stack of books", {"books"}), ("an open book", {"open book"}),
    ("a box of crayons", {"crayon"}), ("a painter's palette", {"artist palette"}), ("a top hat", {"top hat"}),
    ("a pair of jeans", {"jeans"}), ("a red dress", {"dress"}), ("a leather handbag", {"handbag", "purse"}),
    ("a pair of socks", {"socks"}), ("winter gloves", {"gloves"}), ("a saxophone", {"saxophone"}),
    ("an accordion", {"accordion"}), ("a pair of headphones", {"headphone"}), ("a retro radio", {"radio"}),
    ("an arcade joystick", {"joystick"}), ("a yo-yo", {"yo-yo"}), ("a boxing glove", {"boxing glove"}),
    ("a wooden sled", {"sled"}), ("fireworks in the sky", {"fireworks"}), ("a jack-o-lantern", {"jack-o-lantern"}),
    ("a test tube", {"test tube"}), ("a doctor's stethoscope", {"stethoscope"}), ("a bathtub", {"bathtub"}),
    ("a comfy bed", {"bed"}), ("a wooden chair", {"chair"}), ("a ringing bell", {"bell"}),
    ("a smartphone", {"mobile phone"}), ("a floppy disk", {"floppy disk"}), ("a delivery truck", {"delivery truck"}),
    ("a kick scooter", {"kick scooter"}), ("a red canoe", {"canoe"}), ("a traffic light", {"horizontal traffic light",
                                                                                             "vertical traffic light"}),
    ("a potted plant", {"potted plant"}), ("a hibiscus flower", {"hibiscus"}), ("a bouquet of flowers", {"bouquet"}),
    ("a drop of water", {"droplet"}), ("an ocean wave", {"water wave"}), ("a hospital", {"hospital"}),
    ("a circus tent", {"circus tent"}), ("a firefighter", {"firefighter", "man firefighter", "woman firefighter"}),
    ("santa claus", {"santa claus"}), ("an alien invader", {"alien monster", "alien"}),
    ("a broken heart", {"broken heart"}), ("a warning sign", {"warning"}),
]

# Written in session 26 before any change that session, things not asked for in the sets above, many named
# by two words as people name them ("a fire truck", "a koala bear"); held out.
FRESH_26 = [
    ('a cup of hot coffee', {'hot beverage'}),
    ('a coconut', {'coconut'}),
    ('a ripe pineapple', {'pineapple'}),
    ('a sushi roll', {'sushi'}),
    ('a sea turtle', {'turtle'}),
    ('a killer whale', {'spouting whale', 'whale'}),
    ('a koala bear', {'koala'}),
    ('a panda bear', {'panda'}),
    ('a sea lion', {'seal'}),
    ('a garden snail', {'snail'}),
    ('a hermit crab', {'crab'}),
    ('a barn owl', {'owl'}),
    ('a grizzly bear', {'bear'}),
    ('a house fly', {'fly'}),
    ('a fire truck', {'fire engine'}),
    ('a school bus', {'bus', 'oncoming bus'}),
    ('a passenger plane', {'airplane', 'small airplane'}),
    ('a space rocket', {'rocket'}),
    ('a flying saucer', {'flying saucer'}),
    ('a wrist watch', {'watch'}),
    ('a paper clip', {'paperclip'}),
    ('a padlock', {'locked'}),
    ('a desktop computer', {'desktop computer'}),
    ('a laptop', {'laptop'}),
    ('a photo camera', {'camera', 'camera with flash'}),
    ('a tennis racket', {'tennis'}),
    ('a fishing rod', {'fishing pole'}),
    ('a volcano erupting', {'volcano'}),
    ('a palm tree', {'palm tree'}),
    ('a maple leaf', {'maple leaf'}),
    ('a tulip', {'tulip'}),
    ('a pumpkin pie', {'pie'}),
    ('a baseball cap', {'billed cap'}),
    ('a graduation cap', {'graduation cap'}),
    ('a money bag', {'money bag'}),
    ('a dollar bill', {'dollar banknote'}),
    ('a stop sign', {'stop sign'}),
    ('a fountain pen', {'fountain pen'}),
    ('a claw hammer', {'hammer'}),
    ('a frying pan', {'cooking'}),
    ('a cell phone', {'mobile phone'}),
    ('a wooden rowboat', {'canoe', 'person rowing boat'}),
    ('a sewing needle', {'sewing needle'}),
    ('a safety pin', {'safety pin'}),
    ('a roll of toilet paper', {'roll of paper'}),
    ('a shopping cart', {'shopping cart'}),
    ('a fire extinguisher', {'fire extinguisher'}),
    ('a red hot pepper', {'hot pepper'}),
    ('a water pistol', {'water pistol'}),
    ('a wooden coffin', {'coffin'}),
    ('a mossy headstone', {'headstone'}),
    ('a bar of soap', {'soap'}),
    ('an open window', {'window'}),
    ('a mirror on the wall', {'mirror'}),
    ("a ship's anchor", {'anchor'}),
    ('a cuddly koala', {'koala'}),
    ('a wizard with a staff', {'mage', 'man mage', 'woman mage'}),
    ('a roaring t-rex', {'t-rex'}),
    ('a long-necked dinosaur', {'sauropod'}),
    ('a pink shrimp', {'fried shrimp', 'shrimp'}),
    ('an oyster with a pearl', {'oyster'}),
    ('a crowing rooster', {'rooster'}),
    ('an american bison', {'bison'}),
    ('a guide dog', {'guide dog'}),
    ('a lotus flower', {'lotus'}),
    ('a cable car', {'aerial tramway', 'mountain cableway'}),
    ('a bowling pin', {'bowling'}),
    ('an ice skate', {'ice skate'}),
    ('a hockey stick', {'field hockey', 'ice hockey'}),
    ('a slot machine', {'slot machine'}),
    ('a billiard ball', {'pool 8 ball'}),
    ('a set of nesting dolls', {'nesting dolls'}),
    ('a pair of chopsticks', {'chopsticks'}),
    ('a china teapot', {'teapot'}),
    ('a baby bottle', {'baby bottle'}),
    ('an ice cube', {'ice'}),
    ('a thermometer', {'thermometer'}),
    ('a syringe', {'syringe'}),
    ('a motor scooter', {'motor scooter'}),
    ('a race car', {'racing car'}),
    ('a piano keyboard', {'musical keyboard'}),
    ('a bento box lunch', {'bento box'}),
    ('an archery target', {'bullseye'}),
    ('a wheelchair', {'manual wheelchair', 'motorized wheelchair'}),
]

# Written in session 27 before its change (the sentence encoder's readings, guide/teacher.py) and measured
# before it: everyday things named as people name them, none asked for by the sets above.
FRESH_27 = [
    ('a toothbrush', {'toothbrush'}), ('a wooden bucket', {'bucket'}), ("a witch's broom", {'broom'}),
    ('a paper lantern', {'red paper lantern'}), ('a sharp dagger', {'dagger'}),
    ('a golden trident', {'trident emblem'}), ('a stack of coins', {'coin'}), ('a credit card', {'credit card'}),
    ('a mailbox', {'closed mailbox with lowered flag', 'closed mailbox with raised flag',
                   'open mailbox with lowered flag', 'open mailbox with raised flag'}),
    ('a ruler', {'straight ruler'}), ('a pushpin', {'pushpin', 'round pushpin'}),
    ('a calendar', {'calendar', 'spiral calendar', 'tear-off calendar'}), ('a leather briefcase', {'briefcase'}),
    ('a trash can', {'wastebasket'}), ('a metal chain', {'chains'}), ('a fishing hook', {'hook'}),
    ('a petri dish', {'petri dish'}), ('a strand of dna', {'dna'}), ('a bandage', {'adhesive bandage'}),
    ('a crutch', {'crutch'}), ('an elevator', {'elevator'}), ('a comfy couch', {'couch and lamp'}),
    ('a toilet', {'toilet'}), ('a plunger', {'plunger'}), ('a shower', {'shower'}), ('a razor', {'razor'}),
    ('a bottle of lotion', {'lotion bottle'}), ('a laundry basket', {'basket'}), ('a kitchen sponge', {'sponge'}),
    ('soap bubbles', {'bubbles'}), ('an old tv set', {'television'}), ('a computer mouse', {'computer mouse'}),
    ('a printer', {'printer'}), ('a violin', {'violin'}), ('a banjo', {'banjo'}),
    ('a microphone', {'microphone', 'studio microphone'}), ('a ballet shoe', {'ballet shoes'}),
    ('a hiking boot', {'hiking boot'}), ('a high heel', {'high-heeled shoe'}), ('a necktie', {'necktie'}),
    ('a kimono', {'kimono'}), ('a lab coat', {'lab coat'}), ('a winter coat', {'coat'}), ('a purse', {'purse'}),
    ('a lipstick', {'lipstick'}), ("a soldier's helmet", {'military helmet'}), ('a pair of skis', {'skis'}),
    ('a frisbee', {'flying disc'}), ('a ping pong paddle', {'ping pong'}), ('a badminton racket', {'badminton'}),
    ('a curling stone', {'curling stone'}), ('a joker card', {'joker'}), ('a spool of thread', {'thread'}),
    ('a ball of yarn', {'yarn'}), ('a parachute', {'parachute'}), ('a diving mask', {'diving mask'}),
    ('a firecracker', {'firecracker'}), ('a movie ticket', {'admission tickets', 'ticket'}),
    ('a clapperboard', {'clapper board'}), ('a bookmark', {'bookmark'}), ('a price tag', {'label'}),
    ('an envelope', {'envelope'}), ('a newspaper', {'newspaper', 'rolled-up newspaper'}),
    ('a satellite dish', {'satellite antenna'}), ('a pair of goggles', {'goggles'}), ('a brick wall', {'brick'}),
    ('a log of wood', {'wood'}), ('a straw hut', {'hut'}), ('a water fountain', {'fountain'}),
    ('an oil lamp', {'diya lamp'}), ('a balance scale', {'balance scale'}), ('a cog wheel', {'gear'}),
    ('a hand saw', {'carpentry saw'}), ('a mousetrap', {'mouse trap'}), ('a shopping bag', {'shopping bags'}),
    ('a stick of butter', {'butter'}), ('a salt shaker', {'salt'}), ('a can of soup', {'canned food'}),
    ('a moon cake', {'moon cake'}), ('a bottle of champagne', {'bottle with popping cork'}),
    ('a juice box', {'beverage box'}), ('a dodo', {'dodo'}), ('a germ', {'microbe'}), ('a cockroach', {'cockroach'}),
    ('a coral reef', {'coral'}), ('a white goose', {'goose'}), ('a feather', {'feather'}),
    ("a bird's nest", {'empty nest', 'nest with eggs'}),
]


# Written in session 29 before any change that session and measured before it: prompts as pixray users
# write them (the thing, then words about the style: "a red apple, pixel art", "a sword, 16-bit game
# sprite"), plurals and counts ("two mice", "a flock of geese"), other spellings and joined or split words
# ("an aeroplane", "a water melon"), things with their material, size or mood, and more game sprites.
FRESH_29 = [
    # as pixray users write prompts: the thing, then words about the style
    ("a red apple, pixel art", {"red apple"}), ("pixel art of a birthday cake", {"birthday cake"}),
    ("a sword, 16-bit game sprite", {"dagger", "crossed swords"}), ("a cute frog | 8-bit", {"frog"}),
    ("an isometric house", {"house", "house with garden"}), ("a retro rocket, nes style", {"rocket"}),
    ("a mushroom #pixelart", {"mushroom"}), ("a castle trending on artstation", {"castle", "japanese castle"}),
    ("a key, game asset", {"key", "old key"}),
    ("a heart icon for a health bar", {"red heart"}), ("a tiny pixel cat", {"cat", "cat face"}),
    ("a ghost, low-res sprite", {"ghost"}), ("an owl drawn in pixel art", {"owl"}),
    ("a spaceship, snes style sprite", {"rocket", "flying saucer"}), ("a coin, arcade game", {"coin"}),
    # plurals, counts and irregular plurals
    ("two mice", {"mouse", "mouse face"}), ("rolling dice", {"game die"}), ("three red apples", {"red apple"}),
    ("a flock of geese", {"goose"}), ("two oxen", {"ox"}), ("a set of false teeth", {"tooth"}),
    ("bare feet", {"foot", "footprints"}), ("cacti in the desert", {"cactus", "desert"}),
    ("a bunch of carrots", {"carrot"}), ("some cherries", {"cherries"}), ("four leaf clovers", {"four leaf clover"}),
    ("a couple of penguins", {"penguin"}), ("a few bananas", {"banana"}), ("lots of stars", {"star", "glowing star"}),
    ("many balloons", {"balloon"}), ("five fish", {"fish", "tropical fish"}), ("wolves howling", {"wolf"}),
    ("a pile of leaves", {"fallen leaf", "leaf fluttering in wind", "maple leaf"}),
    ("kitchen knives", {"kitchen knife"}), ("puppies", {"dog", "dog face"}),
    # British and American spellings, joined and hyphened words
    ("a grey donut", {"doughnut"}), ("an aeroplane", {"airplane", "small airplane"}),
    ("a colour palette", {"artist palette"}), ("a colourful peacock", {"peacock"}),
    ("a t-shirt", {"t-shirt"}), ("an ice-cream cone", {"ice cream", "soft ice cream"}),
    ("a jack o lantern", {"jack-o-lantern"}), ("a water melon", {"watermelon"}),
    ("a cup cake", {"cupcake"}), ("a sun flower", {"sunflower"}), ("a pop corn bucket", {"popcorn"}),
    ("a tyre", {"wheel"}), ("a well-dressed penguin", {"penguin"}), ("a racecar", {"racing car"}),
    # materials, sizes, ages and moods
    ("a wooden door", {"door"}), ("a glass bottle", {"bottle with popping cork", "baby bottle"}),
    ("a golden bell", {"bell"}), ("a giant spider", {"spider"}), ("a tiny ant", {"ant"}),
    ("an old man", {"old man"}), ("a baby", {"baby"}), ("an angry face", {"angry face", "enraged face"}),
    ("a sad face", {"sad but relieved face", "crying face", "disappointed face", "frowning face", "pensive face",
                    "loudly crying face", "worried face", "slightly frowning face"}),
    ("a laughing face", {"face with tears of joy", "grinning squinting face", "rolling on the floor laughing",
                         "grinning face with big eyes", "grinning face with smiling eyes", "grinning face"}),
    ("a sleepy face", {"sleeping face", "sleepy face"}), ("a shiny gemstone", {"gem stone"}),
    ("half an avocado", {"avocado"}), ("a melting snowman", {"snowman", "snowman without snow"}),
    ("a burning candle", {"candle"}), ("a blooming rose", {"rose"}), ("a flying bird", {"bird"}),
    ("a swimming shark", {"shark"}), ("a sleeping dog", {"dog", "dog face"}),
    # everyday things and game sprites the older sets do not ask for
    ("a heart-shaped box of chocolates", {"chocolate bar", "heart with ribbon"}),
    ("a bow tie", {"necktie"}), ("a wrapped candy", {"candy"}), ("a lollipop", {"lollipop"}),
    ("a slice of bread", {"bread"}), ("a crusty loaf", {"bread", "baguette bread"}), ("a boiled egg", {"egg"}),
    ("a cooked shrimp", {"fried shrimp", "shrimp"}), ("a bunch of grapes on the vine", {"grapes"}),
    ("a snowy owl", {"owl"}), ("a knight's shield", {"shield"}), ("a bow and arrows", {"bow and arrow"}),
    ("a woodcutter's axe", {"axe"}), ("an old treasure map", {"world map", "map of japan"}),
    ("a skull and bones", {"skull and crossbones", "skull"}), ("a roasted chestnut", {"chestnut"}),
    ("a magic scroll", {"scroll"}), ("a wooden ladder", {"ladder"}),
]


def accuracy(bank, prior, guide, prompts, targets, overlap_weight, by_subject, misses,
             guide_path: Path = GUIDE_WEIGHTS) -> float:
    right = 0
    for prompt, accepted in zip(prompts, targets):
        entry, _ = best_entry(bank, prior, guide_path, [prompt], guide=guide, overlap_weight=overlap_weight,
                              by_subject=by_subject)
        found = bank["captions"][entry]
        right += found in accepted
        if misses is not None and found not in accepted:
            misses.append(f"{prompt!r} → {found!r}")
    return right / len(prompts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the prompts each row gets wrong")
    parser.add_argument("--compare", type=Path, help="another guide file: its shipped row too")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = torch.load(PRIOR_WEIGHTS, weights_only=True)
    prior, bank = SpritePrior.from_file(data), data["bank"]
    guide = GuideModel.from_file(torch.load(GUIDE_WEIGHTS, weights_only=True))
    no_readings = copy.deepcopy(guide)
    no_readings.text.aliases = {}
    sets = [("paraphrases", PARAPHRASES, PARAPHRASE_TARGETS),
            ("unknown words", [p for p, _ in UNKNOWN_WORDS], [t for _, t in UNKNOWN_WORDS]),
            ("scenes", [p for p, _ in SCENES], [t for _, t in SCENES]),
            ("held out (session 20)", [p for p, _ in FRESH], [t for _, t in FRESH]),
            ("game sprites", [p for p, _ in GAME], [t for _, t in GAME]),
            ("held out (session 21)", [p for p, _ in FRESH_21], [t for _, t in FRESH_21]),
            ("held out (session 22)", [p for p, _ in FRESH_22], [t for _, t in FRESH_22]),
            ("held out (session 23)", [p for p, _ in FRESH_23], [t for _, t in FRESH_23]),
            ("held out (session 26)", [p for p, _ in FRESH_26], [t for _, t in FRESH_26]),
            ("held out (session 27)", [p for p, _ in FRESH_27], [t for _, t in FRESH_27]),
            ("held out (session 29)", [p for p, _ in FRESH_29], [t for _, t in FRESH_29])]
    print(f"share of prompts whose retrieved emoji is one a person accepts; guide {GUIDE_WEIGHTS.name} "
          f"with {len(guide.text.aliases)} readings of unknown words")
    print("| retrieval | " + " | ".join(f"{name} ({len(prompts)})" for name, prompts, _ in sets) + " |")
    print("|---|" + "---|" * len(sets))
    rows = [("text tower alone (before)", no_readings, 0.0, False),
            ("+ readings (WordNet's, emoji tags', the sentence encoder's)", guide, 0.0, False),
            (f"+ name overlap ({OVERLAP_WEIGHT})", no_readings, OVERLAP_WEIGHT, False),
            ("+ both", guide, OVERLAP_WEIGHT, False),
            ("+ the prompt's subject counted twice (shipped)", guide, OVERLAP_WEIGHT, True)]
    def print_row(name, row_bank, model, weight, by_subject, guide_path=GUIDE_WEIGHTS):
        misses = [] if args.misses else None
        scores = [accuracy(row_bank, prior, model, prompts, targets, weight, by_subject, misses, guide_path)
                  for _, prompts, targets in sets]
        print(f"| {name} | " + " | ".join(f"{s:.2f}" for s in scores) + " |")
        if misses:  # listed when asked for and some were missed
            print("    misses: " + "; ".join(misses))

    for name, model, weight, by_subject in rows:
        print_row(name, bank, model, weight, by_subject)
    if args.compare:
        other = GuideModel.from_file(torch.load(args.compare, weights_only=True))
        # the bank as that guide sees it, computed once rather than at every prompt
        other_bank = {**bank, **guide_view(prior, other, bank), "guide": fingerprint(args.compare)}
        print_row(f"{args.compare.name} (shipped row's settings)", other_bank, other, OVERLAP_WEIGHT, True,
                  args.compare)

if __name__ == "__main__":
    main()
